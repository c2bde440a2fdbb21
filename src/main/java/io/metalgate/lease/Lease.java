package io.metalgate.lease;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.UUID;

/** A contract of a tenant for a set of machines ({@link LeaseMachine}). */
@Entity
@Table(name = "lease")
public class Lease extends PanacheEntityBase {

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
    @Column(name = "created_at")
    public Instant createdAt;
    @Column(name = "updated_at")
    public Instant updatedAt;
    @Version
    public long version;

    public String subject() {
        return "lease:" + id;
    }
}
