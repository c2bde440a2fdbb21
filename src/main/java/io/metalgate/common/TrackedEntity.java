package io.metalgate.common;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.MappedSuperclass;
import jakarta.persistence.Version;
import java.time.Instant;

/** Creation and change times, and the optimistic-lock version (a lost update becomes a 409). */
@MappedSuperclass
public abstract class TrackedEntity extends PanacheEntityBase {

    @Column(name = "created_at")
    public Instant createdAt;
    @Column(name = "updated_at")
    public Instant updatedAt;
    @Version
    public long version;
}
