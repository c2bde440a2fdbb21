package io.metalgate.conductor;

import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.PowerState;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Intent before action: a BMC operation is recorded (and audited) in the decision's transaction, driven
 * after that commit, and its outcome recorded after, under the machine's lock again. A lifecycle step that
 * the operation completes (ACTIVE → SUSPENDED on a power-off) is fired only once the BMC did it.
 *
 * <p>After a crash an intent stays PENDING. At start, and periodically for intents older than any BMC call
 * can last, the conductor reconciles each with what the BMC says: off means done (the step is fired), on
 * means it did not happen (FAILED; it is not driven again without a new decision); a BMC that cannot be
 * asked leaves the intent PENDING for the next round.
 */
@ApplicationScoped
public class BmcIntents {

    private static final Logger LOG = Logger.getLogger(BmcIntents.class);

    public enum Operation {
        POWER_OFF, POWER_ON, GRACEFUL_OFF, POWER_CYCLE, RESET, SET_BOOT, MEDIA_INSERT, MEDIA_EJECT;

        /** The audit entries of its outcome: done, failed. */
        String done() {
            return switch (this) {
                case POWER_OFF, GRACEFUL_OFF -> "bmc.powered-off";
                case POWER_ON -> "bmc.powered-on";
                case POWER_CYCLE, RESET -> "bmc.power-cycled";
                case SET_BOOT -> "bmc.boot-set";
                case MEDIA_INSERT -> "bmc.media-inserted";
                case MEDIA_EJECT -> "bmc.media-ejected";
            };
        }

        String failed() {
            return switch (this) {
                case POWER_OFF, GRACEFUL_OFF -> "bmc.power-off-failed";
                case POWER_ON -> "bmc.power-on-failed";
                case POWER_CYCLE, RESET -> "bmc.power-cycle-failed";
                case SET_BOOT -> "bmc.boot-set-failed";
                case MEDIA_INSERT -> "bmc.media-insert-failed";
                case MEDIA_EJECT -> "bmc.media-eject-failed";
            };
        }

        /** The power state that shows it happened, when there is one (a cycle ends ON as it began). */
        java.util.Optional<PowerState> shownBy() {
            return switch (this) {
                case POWER_OFF, GRACEFUL_OFF -> java.util.Optional.of(PowerState.OFF);
                case POWER_ON -> java.util.Optional.of(PowerState.ON);
                default -> java.util.Optional.empty();
            };
        }
    }

    /** A PENDING intent is orphaned once older than this: no BMC call of ours lasts so long (timeouts × retries). */
    static final Duration ORPHANED_AFTER = Duration.ofMinutes(3);

    @Inject
    Pool pool;
    @Inject
    MachineTasks tasks;
    @Inject
    BmcOperations operations;
    @Inject
    com.fasterxml.jackson.databind.ObjectMapper mapper;
    @Inject
    BmcEndpoints endpoints;
    @Inject
    Drivers drivers;
    @Inject
    AuditLog audit;

    private final Instant started = Instant.now();

    /** Records a PENDING intent for the locked machine, with its audit entry; its id. */
    Uni<UUID> record(MachineTasks.Locked m, Operation op, MachineLifecycle.Event event, String actor, String reason) {
        return record(m, op, BmcOperations.Params.NONE, event, actor, reason);
    }

    /** Records a PENDING intent with the operation's parameters (boot override, image URL), with its audit entry; its id. */
    Uni<UUID> record(MachineTasks.Locked m, Operation op, BmcOperations.Params params, MachineLifecycle.Event event, String actor,
            String reason) {
        UUID id = UUID.randomUUID();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("intentId", id.toString());
        payload.put("operation", op.name());
        payload.put("event", event == null ? null : event.name());
        payload.put("from", m.state().name());
        String json = params.equals(BmcOperations.Params.NONE) ? null : json(params);
        if (json != null) {
            payload.put("params", mapper.valueToTree(params));
        }
        return m.tx().preparedQuery("INSERT INTO bmc_intent (id, machine_id, operation, event, from_state, actor, reason, created_at, status, "
                + "params, bmc_target) SELECT $1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', $9, " + BmcEndpoints.TARGET + " FROM machine WHERE id = $2 "
                + "RETURNING bmc_target")
                .execute(Tuple.from(java.util.Arrays.asList(id, m.id(), op.name(), event == null ? null : event.name(), m.state().name(),
                        actor, reason, now.atOffset(ZoneOffset.UTC), json)))
                .onFailure(e -> e instanceof io.vertx.pgclient.PgException pg && "23505".equals(pg.getSqlState()))
                .transform(e -> io.metalgate.common.ApiException.conflict("machine " + m.id() + " has a boot or media change in flight; "
                        + "read the boot override again when it is done", "machine"))
                .chain(rows -> {
                    payload.put("bmc", rows.iterator().next().getString("bmc_target")); // which BMC, without credentials
                    return audit.record(m.tx(), actor, "bmc.intent", "machine:" + m.id(), payload);
                })
                .replaceWith(id);
    }

    private String json(BmcOperations.Params p) {
        try {
            return mapper.writeValueAsString(p);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private BmcOperations.Params params(String json) {
        try {
            return json == null ? BmcOperations.Params.NONE : mapper.readValue(json, BmcOperations.Params.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("intent parameters unreadable: " + e.getMessage(), e);
        }
    }

    private record Intent(UUID id, UUID machineId, Operation op, MachineLifecycle.Event event, LifecycleState from, String actor,
            BmcOperations.Params params, String target) {
    }

    /** Intents this process is carrying out now: not orphans, whatever their age (a slow BMC's calls take minutes). */
    private final java.util.Set<UUID> driving = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Drives the BMC for a recorded intent and records the outcome; the machine's state after. A BMC
     * failure is recorded (FAILED, audited) and then passed on.
     */
    Uni<LifecycleState> drive(UUID intentId, String actor) {
        driving.add(intentId);
        return load(intentId).chain(intent -> operations.run(intent.machineId(), intent.op(), intent.params(), intent.target())
                .onFailure().call(e -> finish(intent, false, intent.op().failed(), Map.of("kind", e instanceof DriverException d ? d.kind().name()
                        : e instanceof io.metalgate.common.ApiException a ? a.problem().type() : e.getClass().getSimpleName(),
                        "detail", String.valueOf(e instanceof io.metalgate.common.ApiException a ? a.problem().detail() : e.getMessage())), actor))
                .chain(how -> finish(intent, true, intent.op().done(), Map.of("how", how), actor)))
                .eventually(() -> driving.remove(intentId));
    }

    /**
     * An allowed erase's boot: the one-time PXE override, then the power cycle; a BMC that fails either leaves the
     * machine ERASE_FAILED with the reason (the cycle is not driven after a failed override: the machine would boot its
     * own disk). The machine's state after.
     */
    Uni<LifecycleState> bootForErase(UUID machineId, UUID bootIntent, UUID cycleIntent, String actor) {
        return drive(bootIntent, actor)
                .onFailure().call(e -> abandon(cycleIntent, "the PXE boot override failed: " + e.getMessage(), actor))
                .chain(() -> drive(cycleIntent, actor))
                .onFailure().invoke(e -> LOG.warnf("erase of machine %s: the agent could not be booted: %s", machineId, e.toString()))
                .onFailure().call(e -> tasks.withLock(machineId, m -> m.state() == LifecycleState.ERASING
                        ? tasks.fire(m, MachineLifecycle.Event.ERASE_FAILED, actor, "the agent could not be booted: " + e.getMessage())
                                .replaceWithVoid()
                        : Uni.createFrom().voidItem()))
                .onFailure().recoverWithUni(e -> tasks.withLock(machineId, m -> Uni.createFrom().item(m.state())))
                .chain(s -> tasks.withLock(machineId, m -> Uni.createFrom().item(m.state())));
    }

    /** Settles a PENDING intent as not carried out, without driving the BMC. */
    private Uni<Void> abandon(UUID intentId, String why, String actor) {
        return load(intentId).chain(intent -> finish(intent, false, "bmc.intent-abandoned", Map.of("detail", why), actor)).replaceWithVoid();
    }

    /** Records the outcome under the machine's lock; on success fires the step the intent completes, if still due. */
    private Uni<LifecycleState> finish(Intent intent, boolean done, String auditAction, Map<String, Object> detail, String actor) {
        return finish(intent, done ? "DONE" : "FAILED", auditAction, detail, actor);
    }

    private Uni<LifecycleState> finish(Intent intent, String status, String auditAction, Map<String, Object> detail, String actor) {
        boolean done = status.equals("DONE");
        return tasks.withLock(intent.machineId(), m -> {
            Map<String, Object> payload = new LinkedHashMap<>(detail);
            payload.put("intentId", intent.id().toString());
            Uni<LifecycleState> after = m.tx().preparedQuery("UPDATE bmc_intent SET status = $2, outcome = $3, finished_at = $4 "
                    + "WHERE id = $1 AND status = 'PENDING'")
                    .execute(Tuple.of(intent.id(), status, String.valueOf(detail), Instant.now().atOffset(ZoneOffset.UTC)))
                    .chain(rows -> {
                        if (rows.rowCount() == 0) {
                            // settled meanwhile (reconciled after a restart): what the BMC did is still the record's
                            payload.put("note", "the intent was settled before this outcome arrived");
                            return audit.record(m.tx(), actor, auditAction + "-late", "machine:" + m.id(), payload).replaceWith(m.state());
                        }
                        Uni<Void> audited = audit.record(m.tx(), actor, auditAction, "machine:" + m.id(), payload);
                        // a graceful power-off only asked the operating system to stop (the BMC took the request; the system may
                        // ignore it): the lifecycle moves on a forced power-off, not on a request that proves nothing (and which
                        // the lifecycle's POWER_OFF guard refused, leaving the intent to fail at every reconciliation)
                        if (!done || intent.event() == null || intent.op() == Operation.GRACEFUL_OFF || m.state() != intent.from()
                                || MachineLifecycle.TABLE.find(m.state(), intent.event()).isEmpty()) {
                            return audited.replaceWith(m.state());
                        }
                        // the gate allowed the operation when the intent was recorded
                        String allowedAction = intent.op().name();
                        return audited.chain(() -> tasks.fire(m, intent.event(), MachineLifecycle.Context.allowed(allowedAction), actor,
                                "BMC carried out " + intent.op()));
                    });
            return after;
        });
    }

    private Uni<Intent> load(UUID id) {
        return pool.preparedQuery("SELECT id, machine_id, operation, event, from_state, actor, params, bmc_target FROM bmc_intent WHERE id = $1")
                .execute(Tuple.of(id)).map(rows -> intent(rows.iterator().next()));
    }

    private Intent intent(Row r) {
        return new Intent(r.getUUID("id"), r.getUUID("machine_id"), Operation.valueOf(r.getString("operation")),
                r.getString("event") == null ? null : MachineLifecycle.Event.valueOf(r.getString("event")),
                LifecycleState.valueOf(r.getString("from_state")), r.getString("actor"), params(r.getString("params")), r.getString("bmc_target"));
    }

    @Scheduled(every = "60s", delayed = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return reconcile().onFailure().invoke(e -> LOG.warnf("reconciling BMC intents failed: %s", e.toString()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /**
     * Reconciles orphaned intents (created before this process started, or older than any BMC call lasts)
     * with what each BMC reports; how many were settled.
     */
    public Uni<Integer> reconcile() {
        Instant cutoff = Instant.now().minus(ORPHANED_AFTER);
        Instant before = started.isAfter(cutoff) ? started : cutoff;
        return pool.preparedQuery("SELECT id, machine_id, operation, event, from_state, actor, params, bmc_target FROM bmc_intent "
                + "WHERE status = 'PENDING' AND created_at < $1 ORDER BY created_at LIMIT 1000")
                .execute(Tuple.of(before.atOffset(ZoneOffset.UTC))).chain(rows -> {
                    List<Intent> orphans = new ArrayList<>();
                    rows.forEach(r -> orphans.add(intent(r)));
                    orphans.removeIf(i -> driving.contains(i.id()));
                    return Multi.createFrom().iterable(orphans).onItem().transformToUniAndMerge(this::reconcile).collect().asList()
                            .map(settled -> (int) settled.stream().filter(Boolean::booleanValue).count());
                });
    }

    private Uni<Boolean> reconcile(Intent intent) {
        // DONE: the BMC shows it happened; FAILED: it shows it did not; UNKNOWN: nothing it shows tells (a cycle, a medium,
        // a one-time boot override a boot may have used up). None is driven again without a new decision.
        Uni<String> found = endpoints.of(intent.machineId()).chain(t -> {
            var driver = drivers.of(t.protocol());
            if (intent.op().shownBy().isPresent()) {
                return driver.powerState(t.endpoint()).map(power -> power == intent.op().shownBy().get() ? "DONE" : "FAILED");
            }
            if (intent.op() == Operation.SET_BOOT && intent.params().boot() != null) {
                var wanted = intent.params().boot();
                return driver.bootDevice(t.endpoint()).map(now -> now.device() == wanted.device()
                        && (wanted.device() == io.metalgate.driver.api.BootOverride.Device.NONE || now.persistent() == wanted.persistent())
                        ? "DONE" : wanted.persistent() ? "FAILED" : "UNKNOWN");
            }
            return Uni.createFrom().item("UNKNOWN");
        });
        return found.chain(status -> finish(intent, status, switch (status) {
            case "DONE" -> "bmc.intent-reconciled";
            case "FAILED" -> "bmc.intent-not-carried-out";
            default -> "bmc.intent-unknown";
        }, Map.of("detail", switch (status) {
            case "DONE" -> "found after a restart: the BMC shows that the " + intent.op() + " happened";
            case "FAILED" -> "found after a restart: the BMC shows that the " + intent.op() + " did not happen; it is not driven again "
                    + "without a new decision";
            default -> "found after a restart: nothing the BMC shows tells whether the " + intent.op() + " happened; it is not driven "
                    + "again without a new decision";
        }), "system").replaceWith(true))
                .onFailure().recoverWithItem(e -> {
                    LOG.warnf("intent %s of machine %s: the BMC could not be asked (%s); tried again later", intent.id(), intent.machineId(),
                            e.toString());
                    return false;
                });
    }
}
