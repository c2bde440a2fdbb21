package io.metalgate.lease;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.UUID;

/** A machine in a lease. The database allows a machine in one lease at a time. */
@Entity
@Table(name = "lease_machine")
public class LeaseMachine extends PanacheEntityBase {

    @Embeddable
    public record Key(@Column(name = "lease_id") UUID leaseId, @Column(name = "machine_id") UUID machineId)
            implements Serializable {
    }

    @EmbeddedId
    public Key id;

    public static LeaseMachine of(UUID leaseId, UUID machineId) {
        LeaseMachine lm = new LeaseMachine();
        lm.id = new Key(leaseId, machineId);
        return lm;
    }
}
