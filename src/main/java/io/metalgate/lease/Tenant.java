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

    public String subject() {
        return "tenant:" + id;
    }
}
