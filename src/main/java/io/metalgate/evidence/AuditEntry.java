package io.metalgate.evidence;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import org.hibernate.annotations.Immutable;

/**
 * One entry of the audit chain, for reading. Entries are written only by {@link AuditSequencer} (SQL
 * client, batched); {@code @Immutable} keeps Hibernate from ever issuing an UPDATE, and the database
 * refuses one anyway.
 */
@Entity
@Immutable
@Table(name = "audit_entry")
public class AuditEntry extends PanacheEntityBase {

    @Id
    public long seq;
    public Instant time;
    public String actor;
    public String action;
    public String subject;
    /** RFC 8785 canonical JSON, exactly the bytes that were hashed. */
    public String payload;
    @Column(name = "prev_hash")
    public String prevHash;
    public String hash;
}
