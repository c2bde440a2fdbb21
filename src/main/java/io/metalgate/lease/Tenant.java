package io.metalgate.lease;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.UUID;

/** A customer of the provider: holds leases, receives notices. */
@Entity
@Table(name = "tenant")
public class Tenant extends PanacheEntityBase {

    @Id
    public UUID id;
    public String name;
    @Column(name = "external_ref")
    public String externalRef;
    @Column(name = "contact_email")
    public String contactEmail;
    @Column(name = "created_at")
    public Instant createdAt;
    @Column(name = "updated_at")
    public Instant updatedAt;
    @Version
    public long version;

    public String subject() {
        return "tenant:" + id;
    }
}
