package io.metalgate.lease;

import io.metalgate.common.TrackedEntity;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/** A contract of a tenant for a set of machines ({@link LeaseMachine}). */
@Entity
@Table(name = "lease")
public class Lease extends TrackedEntity {

    @Id
    public UUID id;
    @Column(name = "tenant_id")
    public UUID tenantId;
    @Column(name = "external_ref")
    public String externalRef;
    @Enumerated(EnumType.STRING)
    public LeaseState state;
    @Column(name = "starts_at")
    public Instant startsAt;
    @Column(name = "ends_at")
    public Instant endsAt;
    /** When the lease entered TERMINATED: the retention period runs from here. */
    @Column(name = "terminated_at")
    public Instant terminatedAt;

    public String subject() {
        return "lease:" + id;
    }
}
