package io.metalgate.conductor;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.metalgate.security.Roles;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * An erase in progress: {@code GET /api/machines/{id}/erase} shows each disk's last reported phase and percent; an
 * ERASING machine whose agent said nothing for {@code metalgate.erase.report-timeout} since the erase started (or its
 * last word) is ERASE_FAILED with that reason (checked every minute).
 */
@Path("/api/machines/{id}/erase")
@Tag(name = "boot")
@jakarta.enterprise.context.ApplicationScoped
public class EraseProgress {

    public record DiskProgress(String serialNumber, String phase, int percent, String detail, Instant updatedAt) {
    }

    public record View(UUID machineId, LifecycleState state, Instant lastHeard, List<DiskProgress> disks) {
    }

    @Inject
    Pool pool;
    @Inject
    MachineTasks tasks;
    @Inject
    MetalgateConfig config;

    /** When the machine's erase last showed life: its start, a boot token issued for it, or the agent's last report. */
    static final String LAST_HEARD = "GREATEST((SELECT max(st.at) FROM state_transition st WHERE st.subject_type = 'MACHINE' "
            + "AND st.subject_id = m.id AND st.to_state = 'ERASING'), (SELECT max(t.issued_at) FROM boot_token t WHERE t.machine_id = m.id), "
            + "(SELECT max(p.updated_at) FROM erase_progress p WHERE p.machine_id = m.id))";

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The erase of a machine: its state, when its agent was last heard of, and each disk's phase and percent")
    public Uni<View> get(@PathParam("id") UUID id) {
        return pool.preparedQuery("SELECT m.lifecycle_state, " + LAST_HEARD + " AS last_heard FROM machine m WHERE m.id = $1").execute(Tuple.of(id))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw io.metalgate.common.ApiException.notFound("machine", id);
                    }
                    var r = rows.iterator().next();
                    return pool.preparedQuery("SELECT * FROM erase_progress WHERE machine_id = $1 ORDER BY serial_number").execute(Tuple.of(id))
                            .map(ps -> {
                                List<DiskProgress> disks = new ArrayList<>();
                                ps.forEach(p -> disks.add(new DiskProgress(p.getString("serial_number"), p.getString("phase"), p.getInteger("percent"),
                                        p.getString("detail"), p.getOffsetDateTime("updated_at").toInstant())));
                                return new View(id, LifecycleState.valueOf(r.getString("lifecycle_state")),
                                        r.getOffsetDateTime("last_heard") == null ? null : r.getOffsetDateTime("last_heard").toInstant(), disks);
                            });
                });
    }

    @Scheduled(every = "60s", delayed = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return timeOut().replaceWithVoid().onFailure().recoverWithNull();
    }

    /** Fails the erases that stopped reporting; how many. */
    public Uni<Integer> timeOut() {
        Instant cutoff = Instant.now().minus(config.erase().reportTimeout());
        return pool.preparedQuery("SELECT m.id FROM machine m WHERE m.lifecycle_state = 'ERASING' AND COALESCE(" + LAST_HEARD + ", '-infinity') < $1")
                .execute(Tuple.of(cutoff.atOffset(ZoneOffset.UTC))).chain(rows -> {
                    List<UUID> stale = new ArrayList<>();
                    rows.forEach(r -> stale.add(r.getUUID("id")));
                    return Multi.createFrom().iterable(stale).onItem().transformToUniAndConcatenate(id -> tasks.withLock(id, m -> m.state() != LifecycleState.ERASING
                            ? Uni.createFrom().item(false)
                            : tasks.fire(m, MachineLifecycle.Event.ERASE_FAILED, "system:conductor", "the erase stopped reporting: nothing from its agent for "
                                    + config.erase().reportTimeout()).replaceWith(true))).collect().asList()
                            .map(l -> (int) l.stream().filter(Boolean::booleanValue).count());
                });
    }
}
