package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.common.StateTransitionLog;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * One lock per machine, as Ironic's task manager does it: a transaction that holds the machine's row lock
 * ({@code SELECT ... FOR UPDATE}) from reading the facts, through the decision and its audit entry, to the
 * transition and the BMC intent. Whatever else changes a fact the gate reads about a machine (a hold, a lease
 * event, joining or leaving a lease) takes the same lock, so a decision and such a change are never
 * interleaved. The audit entries written in the transaction are chained before the result is handed on.
 */
@ApplicationScoped
public class MachineTasks {

    /** The locked machine, and the transaction to do everything in. */
    public record Locked(SqlConnection tx, UUID id, LifecycleState state, UUID dataTenantId, UUID dataLeaseId, AfterCommit after) {
    }

    /** What a lock's transaction did that others are told of once it committed. */
    public static final class AfterCommit {
        volatile boolean erasingEnded;
    }

    /** A machine left ERASING (ERASED or ERASE_FAILED), committed: an erase slot is free (bulk erases wait for one). */
    public record ErasingEnded(UUID machineId) {
    }

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    jakarta.enterprise.event.Event<ErasingEnded> erasingEnded;

    /** Runs {@code work} in a transaction holding {@code machineId}'s lock; 404 for an unknown machine. */
    public <T> Uni<T> withLock(UUID machineId, Function<Locked, Uni<T>> work) {
        AfterCommit after = new AfterCommit();
        return pool.<T>withTransaction(tx -> lock(tx, machineId, after).chain(m -> work.apply(m))).call(audit::sequenced)
                .invoke(() -> {
                    if (after.erasingEnded) {
                        erasingEnded.fire(new ErasingEnded(machineId));
                    }
                });
    }

    /** Takes the lock of {@code machineId} in {@code tx} (the caller's transaction). */
    private static Uni<Locked> lock(SqlConnection tx, UUID machineId, AfterCommit after) {
        return tx.preparedQuery("SELECT id, lifecycle_state, data_tenant_id, data_lease_id FROM machine WHERE id = $1 FOR UPDATE")
                .execute(Tuple.of(machineId)).map(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("machine", machineId);
                    }
                    Row r = rows.iterator().next();
                    return new Locked(tx, machineId, LifecycleState.valueOf(r.getString("lifecycle_state")), r.getUUID("data_tenant_id"),
                            r.getUUID("data_lease_id"), after);
                });
    }

    /**
     * Fires {@code event} on the locked machine by the lifecycle table: the new state, its
     * state_transition row and audit entry, in the lock's transaction. A state without that event is a
     * 409 naming the events it allows.
     */
    public Uni<LifecycleState> fire(Locked m, MachineLifecycle.Event event, String actor, String reason) {
        return fire(m, event, MachineLifecycle.Context.NONE, actor, reason);
    }

    /**
     * {@link #fire(Locked, MachineLifecycle.Event, String, String)} with what the gate allowed in this
     * transaction: the table's guard of the row is evaluated on it (a gated row without its allowed action
     * is a 409, never a transition).
     */
    public Uni<LifecycleState> fire(Locked m, MachineLifecycle.Event event, MachineLifecycle.Context context, String actor, String reason) {
        var row = MachineLifecycle.TABLE.find(m.state(), event).orElseThrow(() -> illegal(m.state(), event));
        if (!row.allows(context)) {
            throw new ApiException(Problem.of(409, "guard-failed", "Guard does not hold", "the " + m.state() + " --" + event + "--> "
                    + row.to() + " step needs '" + row.guard() + "', which does not hold"));
        }
        LifecycleState to = row.to();
        if (m.state() == LifecycleState.ERASING && to != LifecycleState.ERASING) {
            m.after().erasingEnded = true;
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("from", m.state().name());
        payload.put("event", event.name());
        payload.put("to", to.name());
        payload.put("guard", row.guard());
        payload.put("reason", reason);
        return m.tx().preparedQuery("UPDATE machine SET lifecycle_state = $2, updated_at = $3, version = version + 1 WHERE id = $1")
                .execute(Tuple.of(m.id(), to.name(), now.atOffset(ZoneOffset.UTC)))
                .chain(() -> StateTransitionLog.record(m.tx(), StateTransitionLog.SubjectType.MACHINE, m.id(), m.state().name(), event.name(),
                        to.name(), actor, reason, now))
                .chain(() -> audit.record(m.tx(), actor, "machine.transitioned", "machine:" + m.id(), payload))
                .replaceWith(to);
    }

    public static ApiException illegal(LifecycleState from, MachineLifecycle.Event event) {
        return new ApiException(Problem.of(409, "illegal-transition", "Illegal transition", "a " + from + " machine has no " + event
                + " transition")
                .withAllowedEvents(MachineLifecycle.TABLE.allowedEvents(from).stream().map(Enum::name).toList()));
    }
}
