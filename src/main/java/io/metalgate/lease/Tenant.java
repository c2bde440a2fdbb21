package io.metalgate.lease;

import io.metalgate.common.TrackedEntity;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.UUID;

/** A customer of the provider: holds leases, receives notices. */
@Entity
@Table(name = "tenant")
public class Tenant extends TrackedEntity {

    @Id
    public UUID id;
    public String name;
    @Column(name = "external_ref")
    public String externalRef;
    @Column(name = "contact_email")
    public String contactEmail;
    /** A change of the contact address one person asked for, in force once a second confirms it. */
    @Column(name = "contact_email_proposed")
    public String contactEmailProposed;
    @Column(name = "contact_email_proposed_by")
    public String contactEmailProposedBy;
    @Column(name = "contact_email_proposed_at")
    public java.time.Instant contactEmailProposedAt;

    public String subject() {
        return "tenant:" + id;
    }
}
