package io.metalgate.common;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;

/** Writes one row of {@code state_transition} in the current transaction (its audit entry is the caller's). */
public final class StateTransitionLog {

    public enum SubjectType {
        LEASE, MACHINE
    }

    private StateTransitionLog() {
    }

    /** The same row in the caller's Vert.x SQL transaction. */
    public static Uni<Void> record(io.vertx.mutiny.sqlclient.SqlClient tx, SubjectType type, UUID subjectId, String from, String event,
            String to, String actor, String reason, Instant at) {
        return tx.preparedQuery("INSERT INTO state_transition (id, subject_type, subject_id, from_state, event, to_state, actor, reason, at) "
                + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .execute(io.vertx.mutiny.sqlclient.Tuple.from(java.util.Arrays.asList(UUID.randomUUID(), type.name(), subjectId, from, event,
                        to, actor, reason, at.atOffset(ZoneOffset.UTC))))
                .replaceWithVoid();
    }

    public static Uni<Void> record(SubjectType type, UUID subjectId, String from, String event, String to, String actor, String reason,
            Instant at) {
        return Panache.getSession().chain(s -> s.createNativeQuery("INSERT INTO state_transition (id, subject_type, subject_id, "
                + "from_state, event, to_state, actor, reason, at) VALUES (:id, :type, :sid, :f, :e, :t, :a, :r, :at)")
                .setParameter("id", UUID.randomUUID()).setParameter("type", type.name()).setParameter("sid", subjectId)
                .setParameter("f", from).setParameter("e", event).setParameter("t", to).setParameter("a", actor)
                .setParameter("r", reason).setParameter("at", at.atOffset(ZoneOffset.UTC)).executeUpdate()).replaceWithVoid();
    }
}
