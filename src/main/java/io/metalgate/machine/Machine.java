package io.metalgate.machine;

import io.metalgate.common.TrackedEntity;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.UUID;

/**
 * A server of the fleet and how to reach its BMC. The BMC password is stored only encrypted
 * ({@code bmcSecret}, see SecretCipher) and never leaves through the API. Entities stay inside the
 * package's services; the API speaks {@link MachineApi} records.
 */
@Entity
@Table(name = "machine")
public class Machine extends TrackedEntity {

    @Id
    public UUID id;
    public String name;
    public String rack;
    public String location;
    @Enumerated(EnumType.STRING)
    @Column(name = "bmc_protocol")
    public BmcProtocol bmcProtocol;
    @Column(name = "bmc_host")
    public String bmcHost;
    @Column(name = "bmc_port")
    public int bmcPort;
    @Column(name = "bmc_username")
    public String bmcUsername;
    @Column(name = "bmc_secret")
    public String bmcSecret;
    @Column(name = "bmc_tls_fingerprint")
    public String bmcTlsFingerprint;
    /** {@link MachineApi.BmcOptions} as canonical JSON; null when the machine needs none. */
    @Column(name = "bmc_options")
    public String bmcOptions;
    @Enumerated(EnumType.STRING)
    @Column(name = "lifecycle_state")
    public LifecycleState lifecycleState;
    @Column(name = "bmc_identity")
    public String bmcIdentity;
    /** Whose data the machine holds; written only by the lease and conductor code (SQL), read-only here. */
    @Column(name = "data_tenant_id", insertable = false, updatable = false)
    public UUID dataTenantId;
    public boolean maintenance;
    @Column(name = "maintenance_reason")
    public String maintenanceReason;

    // Written only by the conductor's power sync and inspection (SQL), read-only here so that an edit of
    // the machine never writes back a stale observation.
    @Column(name = "power_state", insertable = false, updatable = false)
    public String powerState;
    @Column(name = "power_checked_at", insertable = false, updatable = false)
    public java.time.Instant powerCheckedAt;
    @Column(name = "power_error", insertable = false, updatable = false)
    public String powerError;
    @Column(name = "power_drift", insertable = false, updatable = false)
    public Boolean powerDrift;
    @Column(name = "inspected_at", insertable = false, updatable = false)
    public java.time.Instant inspectedAt;

    /** The reference used as audit subject. */
    public String subject() {
        return "machine:" + id;
    }

    @Override
    public String toString() {
        // Never includes bmcSecret: entities end up in log lines.
        return "Machine[" + id + " " + name + " " + bmcProtocol + "://" + bmcHost + ":" + bmcPort + " " + lifecycleState + "]";
    }
}
