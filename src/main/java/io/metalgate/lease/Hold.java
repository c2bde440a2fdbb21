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

/**
 * A hold: while it stands, nothing it covers is erased or reassigned. Placed by one person at once
 * (fail safe); released only by two different people, one of them with the legal role, with a reason.
 * Rows are never deleted: a released hold stays as evidence.
 */
@Entity
@Table(name = "hold")
public class Hold extends PanacheEntityBase {

    public enum Kind {
        LEGAL_HOLD, PRESERVATION_REQUEST, DISPUTE
    }

    public enum Scope {
        TENANT, LEASE, MACHINES
    }

    @Id
    public UUID id;
    @Enumerated(EnumType.STRING)
    public Kind kind;
    @Enumerated(EnumType.STRING)
    public Scope scope;
    @Column(name = "tenant_id")
    public UUID tenantId;
    @Column(name = "lease_id")
    public UUID leaseId;
    public String reason;
    @Column(name = "placed_by")
    public String placedBy;
    @Column(name = "placed_at")
    public Instant placedAt;
    @Column(name = "release_requested_by")
    public String releaseRequestedBy;
    @Column(name = "release_requested_at")
    public Instant releaseRequestedAt;
    @Column(name = "release_reason")
    public String releaseReason;
    /** Whether the first person of the release held the legal role (one of the two must). */
    @Column(name = "release_requester_legal")
    public Boolean releaseRequesterLegal;
    @Column(name = "released_by")
    public String releasedBy;
    @Column(name = "released_at")
    public Instant releasedAt;
    @Version
    public long version;

    public String subject() {
        return "hold:" + id;
    }
}
