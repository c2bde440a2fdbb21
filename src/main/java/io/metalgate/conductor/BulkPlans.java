package io.metalgate.conductor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.metalgate.gate.Action;
import io.metalgate.machine.BmcProtocol;
import io.metalgate.machine.LifecycleState;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Gate;
import io.metalgate.gate.Policy;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Bulk actions: a plan decides every selected machine with the blast radius in its facts (machines in
 * the window, share of each tenant's fleet), records the fingerprint of those facts, and is executed
 * only by its id, with the approvals the blast-radius rule asks for, and only while its facts are
 * unchanged (otherwise it is stale and must be made again).
 */
@ApplicationScoped
public class BulkPlans {

    /**
     * Which machines a plan covers: exactly one of a tenant's leased machines, a lease's, a list of ids,
     * or a query (the filters of the machine listing).
     */
    public record Selector(UUID tenantId, UUID leaseId, List<UUID> machineIds, MachineQuery query) {
    }

    /** Filters as in {@code GET /api/machines}; null means any. {@code name} matches a part of the name. */
    public record MachineQuery(String name, String rack, LifecycleState state, BmcProtocol protocol, Boolean maintenance) {
    }

    /** A plan's life: PLANNED, EXECUTING (claimed by one execute), then EXECUTED (every machine done) or PARTIAL. */
    public enum Status {
        PLANNED, EXECUTING, EXECUTED, PARTIAL;

        boolean executable() {
            return this == PLANNED || this == PARTIAL;
        }
    }

    public record MachineDecision(UUID machineId, boolean allowed, List<Decision.Reason> reasons) {
    }

    public record TenantRadius(String tenantId, int machines, int fleet, double share) {
    }

    /** @param erasedInWindow machines other than these whose erase started within the bulk window (24 h) */
    public record BlastRadius(int machines, int tenants, List<TenantRadius> perTenant, int erasedInWindow) {
    }

    /** Machines that share an outcome: allowed or not, and the same reason codes. */
    public record Outcome(boolean allowed, List<Decision.Code> reasons, int machines) {
    }

    /**
     * A plan as answered: the summary ({@code outcomes} grouped by reason codes) and, unless only the
     * summary was asked for, every machine's decision with its reasons.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Plan(UUID id, Action action, String requestedBy, Instant createdAt, Instant expiresAt, Status status, String fingerprint,
            int allowed, int refused, BlastRadius blastRadius, List<String> approvers, List<Outcome> outcomes, Map<String, Integer> executed,
            List<MachineDecision> decisions, List<Execution> executions) {

        /** The same plan without the per-machine decisions and outcomes (60,000 of them are tens of megabytes of JSON). */
        public Plan summary() {
            return new Plan(id, action, requestedBy, createdAt, expiresAt, status, fingerprint, allowed, refused, blastRadius, approvers, outcomes,
                    executed, null, null);
        }
    }

    /** What executing the plan did with one machine: DONE, REFUSED (decided again, with the reasons) or FAILED. */
    public record Execution(UUID machineId, String outcome, String detail, Instant at) {
    }

    private record Evaluation(List<Facts> facts, List<Decision> decisions, BlastRadius radius, String fingerprint) {
    }

    private static final Logger LOG = Logger.getLogger(BulkPlans.class);

    /** Milliseconds spent in each stage of making a plan, logged at DEBUG (see docs/benchmarks.md). */
    static final class Stages {
        private long last = System.nanoTime();
        private final StringBuilder text = new StringBuilder();

        void mark(String stage) {
            long now = System.nanoTime();
            text.append(text.isEmpty() ? "" : ", ").append(stage).append('=').append((now - last) / 1_000_000).append("ms");
            last = now;
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    @Inject
    Pool pool;
    @Inject
    GateFacts gateFacts;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    ActionService actions;
    @Inject
    io.metalgate.common.MetalgateConfig config;

    public Uni<Plan> plan(Action action, Selector selector, String reason, String person) {
        Stages stages = new Stages();
        return select(selector).chain(ids -> {
            if (ids.isEmpty()) {
                throw ApiException.badRequest("selector", "selects no machines");
            }
            stages.mark("select");
            return evaluate(action, ids, person, List.of(), stages).chain(ev -> {
                UUID id = UUID.randomUUID();
                Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                // The whole plan once (subject bulk:<id>); per tenant only what concerns it, so no entry
                // grows with the size of the fleet times the number of tenants.
                Map<String, Object> whole = new LinkedHashMap<>();
                whole.put("planId", id.toString());
                whole.put("action", action.name());
                whole.put("selector", selectorEvidence(selector));
                whole.put("reason", reason);
                whole.put("fingerprint", ev.fingerprint());
                whole.put("blastRadius", ev.radius());
                Map<String, Object> payload = new LinkedHashMap<>();
                payload.put("planId", id.toString());
                payload.put("action", action.name());
                payload.put("reason", reason);
                payload.put("fingerprint", ev.fingerprint());
                payload.put("machines", ev.radius().machines());
                payload.put("tenants", ev.radius().tenants());
                return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                        "INSERT INTO bulk_plan (id, action, selector, machine_ids, fingerprint, requested_by, reason, created_at, expires_at, status) "
                                + "VALUES (:id, :a, :sel, :ids, :fp, :by, :r, :at, :exp, 'PLANNED')")
                        .setParameter("id", id).setParameter("a", action.name()).setParameter("sel", audit.canonical(selectorEvidence(selector)))
                        .setParameter("ids", ids.toArray(new UUID[0]))
                        .setParameter("fp", ev.fingerprint()).setParameter("by", person).setParameter("r", reason)
                        .setParameter("at", now.atOffset(ZoneOffset.UTC))
                        .setParameter("exp", now.plus(config.gate().approvalExpiry()).atOffset(ZoneOffset.UTC)).executeUpdate())
                        .invoke(() -> stages.mark("store"))
                        .chain(() -> audit.record(person, "bulk.planned", "bulk:" + id, whole))
                        .chain(() -> auditPerTenant(person, "bulk.planned", ids, ev, payload))
                        .invoke(() -> stages.mark("audit")))
                        .invoke(() -> stages.mark("commit"))
                        .chain(audit::sequenced)
                        .invoke(() -> stages.mark("chain"))
                        .map(v -> view(id, action, person, now, now.plus(config.gate().approvalExpiry()), Status.PLANNED, ids, ev, List.of(), List.of()))
                        .invoke(() -> {
                            stages.mark("view");
                            LOG.debugf("bulk plan %s over %d machines: %s", id, ids.size(), stages);
                        });
            });
        });
    }

    public Uni<Plan> approve(UUID planId, String approver, Set<String> roles) {
        return load(planId).chain(p -> {
            ApproverRule.check(p.requestedBy(), approver, roles, "plan", "approve");
            if (!p.expiresAt().isAfter(Instant.now())) {
                throw ApiException.conflict("plan " + planId + " expired at " + p.expiresAt() + "; make a new plan", "id");
            }
            if (!p.status().executable()) {
                throw ApiException.conflict("plan " + planId + " is " + p.status(), "id");
            }
            if (p.approvers().contains(approver)) {
                throw ApiException.conflict(approver + " has already approved plan " + planId, "id");
            }
            return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                    "INSERT INTO bulk_plan_approval (plan_id, approver, roles, at) VALUES (:p, :a, :r, :at)")
                    .setParameter("p", planId).setParameter("a", approver).setParameter("r", String.join(",", roles))
                    .setParameter("at", Instant.now().atOffset(ZoneOffset.UTC)).executeUpdate())
                    .chain(() -> auditUnder(approver, "bulk.approved", p.ids(), Map.of("planId", planId.toString()))))
                    .chain(audit::sequenced).chain(() -> get(planId, approver));
        });
    }

    /**
     * Executes a plan machine by machine. The plan's decisions were the preview and what was approved; each
     * machine is decided again, under its lock, at the moment it is acted on (a hold placed meanwhile stops
     * it). Each machine's outcome (done, refused with its reasons, BMC failure) is stored on the plan; a
     * failure does not stop the others; the plan ends EXECUTED (every machine done) or PARTIAL, and executing
     * a PARTIAL plan again acts only on what is not done. A PLANNED plan whose facts changed is stale (409).
     */
    public Uni<Plan> execute(UUID planId, String person) {
        return load(planId).chain(p -> {
            if (!p.status().executable()) {
                throw ApiException.conflict("plan " + planId + " is " + p.status(), "id");
            }
            if (!p.expiresAt().isAfter(Instant.now())) {
                throw ApiException.conflict("plan " + planId + " expired at " + p.expiresAt() + "; make a new plan", "id");
            }
            return evaluate(p.action(), p.ids(), p.requestedBy(), p.approvals()).chain(ev -> {
                if (p.status() == Status.PLANNED && !ev.fingerprint().equals(p.fingerprint())) {
                    return Panache.withTransaction(() -> auditUnder(person, "bulk.refused-stale", p.ids(), Map.of("planId",
                            planId.toString(), "plannedFingerprint", p.fingerprint(), "currentFingerprint", ev.fingerprint())))
                            .chain(audit::sequenced).map(v -> {
                                throw new ApiException(Problem.of(409, "stale-plan", "Stale plan", "the facts of plan " + planId
                                        + " changed since it was made (holds, notices, leases or machines); make a new plan"));
                            });
                }
                int allowed = (int) ev.decisions().stream().filter(Decision::allowed).count();
                if (allowed == 0 && p.status() == Status.PLANNED) {
                    Map<String, Object> payload = new LinkedHashMap<>();
                    payload.put("planId", planId.toString());
                    return Panache.withTransaction(() -> auditPerTenant(person, "bulk.refused", p.ids(), ev, payload)).chain(audit::sequenced)
                            .map(v -> {
                                throw new ApiException(Problem.of(409, "gate-refused", "Refused by the gate", "no machine of plan "
                                        + planId + " may be acted on: " + summary(ev.decisions())));
                            });
                }
                // claim the plan: two executes of one plan never act twice
                Map<String, Integer> perTenant = new HashMap<>();
                ev.facts().forEach(f -> f.lease().ifPresent(l -> perTenant.merge(l.tenantId(), 1, Integer::sum)));
                GateFacts.PlanBatch batch = new GateFacts.PlanBatch(planId, p.ids(), perTenant);
                if (p.action() == Action.ERASE) {
                    return queueErases(p, planId, perTenant, person).chain(() -> get(planId, person));
                }
                return pool.preparedQuery("UPDATE bulk_plan SET status = 'EXECUTING' WHERE id = $1 AND status = $2")
                        .execute(Tuple.of(planId, p.status().name())).chain(claimed -> {
                            if (claimed.rowCount() == 0) {
                                throw ApiException.conflict("plan " + planId + " is being executed or was executed meanwhile", "id");
                            }
                            // the machines are acted on in the background; GET the plan for its progress
                            run(p, planId, batch, person).subscribe().with(v -> LOG.debugf("plan %s executed", planId),
                                    e -> LOG.warnf("executing plan %s failed: %s", planId, e.toString()));
                            return get(planId, person);
                        });
            });
        });
    }

    /** Acts on every machine of the plan not done yet, stores each outcome, then the plan's end state. */
    private Uni<Void> run(Stored p, UUID planId, GateFacts.PlanBatch batch, String person) {
        return pool.preparedQuery("SELECT machine_id FROM bulk_plan_outcome WHERE plan_id = $1 AND outcome = 'DONE'").execute(Tuple.of(planId))
                .chain(doneRows -> {
                    Set<UUID> done = new java.util.HashSet<>();
                    doneRows.forEach(r -> done.add(r.getUUID(0)));
                    List<UUID> todo = p.ids().stream().filter(id -> !done.contains(id)).toList();
                    // every machine at once would queue on the database and the BMCs' session tables; a fixed few would leave
                    // the BMCs idle: as many as answer in time (a BMC timeout is the overload signal; those are asked again)
                    return io.metalgate.common.AdaptiveConcurrency.run(todo, id -> actOn(p, planId, id, batch, person, null), Acted::timedOut,
                            actionLimits(config.conductor().actionConcurrency()))
                            .map(run -> done.size() + (int) run.results().stream().filter(o -> o.outcome().equals("DONE")).count());
                }).chain(doneCount -> {
                    Status status = doneCount == p.ids().size() ? Status.EXECUTED : Status.PARTIAL;
                    return pool.preparedQuery("UPDATE bulk_plan SET status = $2 WHERE id = $1").execute(Tuple.of(planId, status.name()))
                            .chain(() -> audit.append(person, "bulk.executed", "bulk:" + planId, Map.of("planId", planId.toString(),
                                    "status", status.name(), "done", doneCount, "machines", p.ids().size())));
                })
                .onFailure().call(e -> pool.preparedQuery("UPDATE bulk_plan SET status = 'PARTIAL' WHERE id = $1 AND status = 'EXECUTING'")
                        .execute(Tuple.of(planId)));
    }

    /**
     * A plan left EXECUTING by a stop (the appliance was killed mid-plan) is PARTIAL: executing it again finishes it; one
     * with erases still queued stays EXECUTING, and its queue is started as slots allow.
     */
    void onStart(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent e) {
        pool.query("UPDATE bulk_plan SET status = 'PARTIAL' WHERE status = 'EXECUTING' AND NOT EXISTS (SELECT 1 FROM bulk_plan_outcome o "
                + "WHERE o.plan_id = bulk_plan.id AND o.outcome = 'QUEUED')").execute().await().atMost(java.time.Duration.ofSeconds(30));
        kick();
    }

    static final String QUEUED = "QUEUED";

    /**
     * Claims an erase plan and queues every machine of it not done yet (QUEUED on the plan), in one transaction, with
     * who executed it and its batch's per-tenant counts (the blast radius every later decision of it sees); the
     * conductor then starts them as erase slots allow ({@link #kick}).
     */
    private Uni<Void> queueErases(Stored p, UUID planId, Map<String, Integer> perTenant, String person) {
        String tenants;
        try {
            tenants = mapper.writeValueAsString(new TreeMap<>(perTenant));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Instant now = Instant.now();
        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE bulk_plan SET status = 'EXECUTING', executed_by = $3, batch_tenants = $4 "
                + "WHERE id = $1 AND status = $2").execute(Tuple.of(planId, p.status().name(), person, tenants)).chain(claimed -> {
                    if (claimed.rowCount() == 0) {
                        throw ApiException.conflict("plan " + planId + " is being executed or was executed meanwhile", "id");
                    }
                    return tx.preparedQuery("INSERT INTO bulk_plan_outcome (plan_id, machine_id, outcome, detail, at) SELECT $1, m, 'QUEUED', $3, $4 "
                            + "FROM unnest($2::uuid[]) AS m ON CONFLICT (plan_id, machine_id) DO UPDATE SET outcome = EXCLUDED.outcome, "
                            + "detail = EXCLUDED.detail, at = EXCLUDED.at WHERE bulk_plan_outcome.outcome <> 'DONE'")
                            .execute(Tuple.of(planId, p.ids().toArray(new UUID[0]), "queued: started when fewer than "
                                    + config.erase().maxConcurrent() + " machines are ERASING", now.atOffset(ZoneOffset.UTC)));
                })).replaceWithVoid().invoke(this::kick);
    }

    private final java.util.concurrent.atomic.AtomicBoolean draining = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean drainAgain;

    /**
     * Starts queued erases while slots are free: one drain at a time in this appliance (a kick while one runs makes it
     * go round once more); each start is checked again under the machine's lock, so appliances sharing the database
     * never start one twice or more than the slots.
     */
    void kick() {
        drainAgain = true;
        if (!draining.compareAndSet(false, true)) {
            return;
        }
        drainAgain = false;
        drain().subscribe().with(v -> drained(), e -> {
            LOG.warnf("starting queued erases failed: %s", e.toString());
            drained();
        });
    }

    private void drained() {
        draining.set(false);
        if (drainAgain) {
            kick();
        }
    }

    /** An erase ended (committed): its slot is free. */
    void onErasingEnded(@jakarta.enterprise.event.Observes MachineTasks.ErasingEnded e) {
        kick();
    }

    /** Also every half minute: erases ended by another appliance on the database, or a kick that failed. */
    @io.quarkus.scheduler.Scheduled(every = "30s", delayed = "15s", concurrentExecution = io.quarkus.scheduler.Scheduled.ConcurrentExecution.SKIP)
    void drainScheduled() {
        kick();
    }

    /** Rounds of starts until no slot is free or nothing queued moved, then ends the plans with nothing queued. */
    Uni<Void> drain() {
        return drainOnce().chain(moved -> moved ? drain() : finishQueuedPlans());
    }

    /** Starts up to as many queued erases as slots look free, oldest plan first, in each plan's order; whether any moved. */
    private Uni<Boolean> drainOnce() {
        int slots = config.erase().maxConcurrent();
        return pool.query("SELECT count(*) FROM machine WHERE lifecycle_state = 'ERASING'").execute().chain(count -> {
            long free = slots - count.iterator().next().getLong(0);
            if (free <= 0) {
                return Uni.createFrom().item(false);
            }
            return pool.preparedQuery("SELECT o.plan_id, o.machine_id FROM bulk_plan_outcome o JOIN bulk_plan p ON p.id = o.plan_id "
                    + "WHERE o.outcome = 'QUEUED' AND p.status = 'EXECUTING' ORDER BY p.created_at, p.id, array_position(p.machine_ids, o.machine_id) "
                    + "LIMIT $1").execute(Tuple.of(free)).chain(rows -> {
                        Map<UUID, List<UUID>> byPlan = new LinkedHashMap<>();
                        rows.forEach(r -> byPlan.computeIfAbsent(r.getUUID("plan_id"), k -> new ArrayList<>()).add(r.getUUID("machine_id")));
                        if (byPlan.isEmpty()) {
                            return Uni.createFrom().item(false);
                        }
                        return io.smallrye.mutiny.Multi.createFrom().iterable(byPlan.entrySet()).onItem()
                                .transformToUniAndConcatenate(e -> startQueued(e.getKey(), e.getValue(), slots)).collect().asList()
                                .map(moved -> moved.contains(true));
                    });
        });
    }

    /** Queued machines of one plan, each started if a slot is still free when its turn comes under its lock. */
    private Uni<Boolean> startQueued(UUID planId, List<UUID> machines, int slots) {
        return pool.preparedQuery("SELECT executed_by, batch_tenants FROM bulk_plan WHERE id = $1").execute(Tuple.of(planId))
                .chain(rows -> load(planId).chain(p -> {
                    Row r = rows.iterator().next();
                    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
                    if (!p.expiresAt().isAfter(now)) {
                        // its approvals were for the time the plan stood: a machine whose turn comes after that is not
                        // erased on them (a plan of thousands at a few at once would otherwise run for weeks on day one's)
                        String why = "the plan expired at " + p.expiresAt() + " before this machine's turn: its approvals no longer "
                                + "stand (make a new plan)";
                        String person = r.getString("executed_by") == null ? "system:conductor" : r.getString("executed_by");
                        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE bulk_plan_outcome SET outcome = 'REFUSED', detail = $2, "
                                + "at = $3 WHERE plan_id = $1 AND outcome = 'QUEUED'").execute(Tuple.of(planId, why, now.atOffset(ZoneOffset.UTC)))
                                .chain(updated -> audit.record(tx, person, "bulk.queue-expired", "bulk:" + planId, Map.of("planId",
                                        planId.toString(), "expiredAt", p.expiresAt().toString(), "refused", updated.rowCount())))
                                .replaceWith(true));
                    }
                    Map<String, Integer> perTenant;
                    try {
                        perTenant = r.getString("batch_tenants") == null ? Map.of()
                                : mapper.readValue(r.getString("batch_tenants"), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Integer>>() {
                                });
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                    String person = r.getString("executed_by") == null ? "system:conductor" : r.getString("executed_by");
                    GateFacts.PlanBatch batch = new GateFacts.PlanBatch(planId, p.ids(), perTenant);
                    return io.metalgate.common.AdaptiveConcurrency.run(machines, id -> actOn(p, planId, id, batch, person, slots), Acted::timedOut,
                            actionLimits(config.conductor().actionConcurrency()))
                            .map(run -> run.results().stream().anyMatch(o -> !o.outcome().equals(QUEUED)));
                }));
    }

    /** Erase plans executing with nothing queued any more end EXECUTED (every machine done) or PARTIAL, once. */
    private Uni<Void> finishQueuedPlans() {
        return pool.query("SELECT p.id, cardinality(p.machine_ids) AS machines, p.executed_by, (SELECT count(*) FROM bulk_plan_outcome o "
                + "WHERE o.plan_id = p.id AND o.outcome = 'DONE') AS done FROM bulk_plan p WHERE p.status = 'EXECUTING' AND p.action = 'ERASE' "
                + "AND p.executed_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bulk_plan_outcome o WHERE o.plan_id = p.id AND o.outcome = 'QUEUED')")
                .execute().chain(rows -> {
                    List<Uni<Void>> ends = new ArrayList<>();
                    for (Row r : rows) {
                        UUID planId = r.getUUID("id");
                        int machines = r.getInteger("machines");
                        int done = r.getLong("done").intValue();
                        Status status = done == machines ? Status.EXECUTED : Status.PARTIAL;
                        String person = r.getString("executed_by");
                        ends.add(pool.preparedQuery("UPDATE bulk_plan SET status = $2 WHERE id = $1 AND status = 'EXECUTING' AND NOT EXISTS "
                                + "(SELECT 1 FROM bulk_plan_outcome o WHERE o.plan_id = $1 AND o.outcome = 'QUEUED')")
                                .execute(Tuple.of(planId, status.name())).chain(ended -> ended.rowCount() == 0 ? Uni.createFrom().voidItem()
                                        : audit.append(person, "bulk.executed", "bulk:" + planId, Map.of("planId", planId.toString(),
                                                "status", status.name(), "done", done, "machines", machines))));
                    }
                    return ends.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(ends).andFailFast().replaceWithVoid();
                });
    }

    /** The bounds of the machines acted on at once, up to {@code max} ({@code metalgate.conductor.action-concurrency}). */
    static io.metalgate.common.AdaptiveConcurrency.Limits actionLimits(int max) {
        return new io.metalgate.common.AdaptiveConcurrency.Limits(Math.min(16, max), Math.min(4, max), max);
    }

    /** One machine's outcome in a plan; {@code timedOut}: its BMC did not answer in time (the overload signal). */
    record Acted(String outcome, String detail, boolean timedOut) {
    }

    /** A decided machine's outcome on its plan: DONE, REFUSED (with the gate's reasons) or FAILED. */
    static Acted acted(ActionService.Done done) {
        return done.refusal() == null ? new Acted("DONE", "now " + done.state(), false)
                : new Acted(done.refusal().problem().type().endsWith("gate-refused") ? "REFUSED" : "FAILED",
                        done.decided().decision().reasons().isEmpty() ? done.refusal().problem().detail()
                                : done.decided().decision().reasons().stream().map(r -> r.code() + ": " + r.message())
                                        .collect(java.util.stream.Collectors.joining("; ")), false);
    }

    /**
     * One machine of a plan: decided again under its lock, acted on, its outcome stored; the outcome. With {@code slots}
     * (a queued erase) it is started only when a slot is free, and stays QUEUED otherwise (stored by nobody: the row
     * says so already, and may be another execution's by now).
     */
    private Uni<Acted> actOn(Stored p, UUID planId, UUID machineId, GateFacts.PlanBatch batch, String person, Integer slots) {
        Uni<ActionService.Done> decided = slots == null ? actions.actForPlan(machineId, p.action(), p.requestedBy(), p.approvals(), batch, person, planId)
                : actions.startQueuedErase(machineId, p.requestedBy(), p.approvals(), batch, person, planId, slots);
        return decided.map(done -> done.waiting() != null ? new Acted(QUEUED, done.waiting(), false) : acted(done))
                .onFailure().recoverWithItem(e -> new Acted("FAILED", e instanceof ApiException a ? a.problem().detail() : String.valueOf(e.getMessage()),
                        e instanceof io.metalgate.driver.api.DriverException d && d.kind() == io.metalgate.driver.api.DriverException.Kind.TIMEOUT))
                .call(o -> o.outcome().equals(QUEUED) ? Uni.createFrom().voidItem() : pool.preparedQuery("INSERT INTO bulk_plan_outcome (plan_id, machine_id, outcome, detail, at) VALUES ($1, $2, $3, $4, $5) "
                        + "ON CONFLICT (plan_id, machine_id) DO UPDATE SET outcome = EXCLUDED.outcome, detail = EXCLUDED.detail, at = EXCLUDED.at")
                        .execute(Tuple.of(planId, machineId, o.outcome(), o.detail(), Instant.now().atOffset(ZoneOffset.UTC))).replaceWithVoid());
    }

    public Uni<Plan> get(UUID planId, String person) {
        return load(planId).chain(p -> evaluate(p.action(), p.ids(), p.requestedBy(), p.approvals())
                .chain(ev -> pool.preparedQuery("SELECT machine_id, outcome, detail, at FROM bulk_plan_outcome WHERE plan_id = $1 ORDER BY at")
                        .execute(Tuple.of(planId)).map(rows -> {
                            List<Execution> executions = new ArrayList<>();
                            rows.forEach(r -> executions.add(new Execution(r.getUUID("machine_id"), r.getString("outcome"), r.getString("detail"),
                                    r.getOffsetDateTime("at").toInstant())));
                            return view(planId, p.action(), p.requestedBy(), p.createdAt(), p.expiresAt(), p.status(), p.ids(), ev,
                                    p.approvals().stream().map(Facts.ApprovalFact::approver).toList(), executions);
                        })));
    }

    private record Stored(Action action, List<UUID> ids, String fingerprint, String requestedBy, Instant createdAt, Instant expiresAt,
            Status status, List<Facts.ApprovalFact> approvals, List<String> approvers) {
    }

    private Uni<Stored> load(UUID planId) {
        return pool.preparedQuery("SELECT action, machine_ids, fingerprint, requested_by, created_at, expires_at, status FROM bulk_plan WHERE id = $1")
                .execute(Tuple.of(planId)).chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("plan", planId);
                    }
                    Row r = rows.iterator().next();
                    return pool.preparedQuery("SELECT approver, roles, at FROM bulk_plan_approval WHERE plan_id = $1 ORDER BY at")
                            .execute(Tuple.of(planId)).map(ap -> {
                                List<Facts.ApprovalFact> approvals = new ArrayList<>();
                                ap.forEach(a -> approvals.add(new Facts.ApprovalFact(a.getString("approver"),
                                        new LinkedHashSet<>(Arrays.asList(a.getString("roles").split(","))),
                                        a.getOffsetDateTime("at").toInstant())));
                                return new Stored(Action.valueOf(r.getString("action")), Arrays.asList(r.getArrayOfUUIDs("machine_ids")),
                                        r.getString("fingerprint"), r.getString("requested_by"), r.getOffsetDateTime("created_at").toInstant(),
                                        r.getOffsetDateTime("expires_at").toInstant(), Status.valueOf(r.getString("status")), approvals, approvals.stream().map(Facts.ApprovalFact::approver).toList());
                            });
                });
    }

    private Uni<List<UUID>> select(Selector s) {
        int named = (s.tenantId() != null ? 1 : 0) + (s.leaseId() != null ? 1 : 0) + (s.machineIds() != null && !s.machineIds().isEmpty() ? 1 : 0)
                + (s.query() != null ? 1 : 0);
        if (named > 1) {
            throw ApiException.badRequest("selector", "name exactly one of tenantId, leaseId, machineIds, query (got " + named + ")");
        }
        if (s.machineIds() != null && !s.machineIds().isEmpty()) {
            return pool.preparedQuery("SELECT m.id FROM unnest($1::uuid[]) AS sel(id) JOIN machine m ON m.id = sel.id ORDER BY m.name")
                    .execute(Tuple.of(s.machineIds().toArray(new UUID[0]))).map(BulkPlans::ids);
        }
        if (s.leaseId() != null) {
            // the machines holding the lease's data, whether or not still in it
            return pool.preparedQuery("SELECT m.id FROM machine m WHERE m.data_lease_id = $1 OR m.id IN (SELECT machine_id FROM lease_machine "
                    + "WHERE lease_id = $1) ORDER BY m.name").execute(Tuple.of(s.leaseId())).map(BulkPlans::ids);
        }
        if (s.tenantId() != null) {
            // the machines holding the tenant's data
            return pool.preparedQuery("SELECT m.id FROM machine m WHERE m.data_tenant_id = $1 ORDER BY m.name").execute(Tuple.of(s.tenantId()))
                    .map(BulkPlans::ids);
        }
        if (s.query() != null) {
            MachineQuery q = s.query();
            List<String> where = new ArrayList<>();
            List<Object> params = new ArrayList<>();
            if (q.name() != null) {
                params.add("%" + q.name().toLowerCase(java.util.Locale.ROOT).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
                where.add("lower(name) LIKE $" + params.size());
            }
            if (q.rack() != null) {
                params.add(q.rack());
                where.add("rack = $" + params.size());
            }
            if (q.state() != null) {
                params.add(q.state().name());
                where.add("lifecycle_state = $" + params.size());
            }
            if (q.protocol() != null) {
                params.add(q.protocol().name());
                where.add("bmc_protocol = $" + params.size());
            }
            if (q.maintenance() != null) {
                params.add(q.maintenance());
                where.add("maintenance = $" + params.size());
            }
            if (where.isEmpty()) {
                throw ApiException.badRequest("selector.query", "name at least one filter (name, rack, state, protocol, maintenance)");
            }
            return pool.preparedQuery("SELECT id FROM machine WHERE " + String.join(" AND ", where) + " ORDER BY name")
                    .execute(Tuple.from(params)).map(BulkPlans::ids);
        }
        throw ApiException.badRequest("selector", "name a tenantId, leaseId, machineIds or query");
    }

    private static List<UUID> ids(io.vertx.mutiny.sqlclient.RowSet<Row> rows) {
        List<UUID> out = new ArrayList<>();
        rows.forEach(r -> out.add(r.getUUID("id")));
        return out;
    }

    /** Facts of every machine, the blast radius put into each, and one decision per machine. */
    private Uni<Evaluation> evaluate(Action action, List<UUID> ids, String requester, List<Facts.ApprovalFact> approvals) {
        return evaluate(action, ids, requester, approvals, new Stages());
    }

    private Uni<Evaluation> evaluate(Action action, List<UUID> ids, String requester, List<Facts.ApprovalFact> approvals, Stages stages) {
        return gateFacts.forMachines(ids, requester).invoke(base -> {
            stages.mark("facts");
            if (base.size() != ids.size()) {
                throw new ApiException(Problem.of(409, "stale-plan", "Stale plan", (ids.size() - base.size())
                        + " machine(s) of the plan no longer exist; make a new plan"));
            }
        }).chain(base -> {
            Set<UUID> tenants = new LinkedHashSet<>();
            base.forEach(f -> f.lease().ifPresent(l -> tenants.add(UUID.fromString(l.tenantId()))));
            Instant now = Instant.now();
            // only erases count against the blast-radius window (domain.md); other actions see their batch alone
            Uni<GateFacts.EraseWindow> window = action == Action.ERASE ? gateFacts.eraseWindow(tenants, null, now)
                    : Uni.createFrom().item(GateFacts.EraseWindow.NONE);
            return window.map(w -> {
                    stages.mark("window");
                    Map<String, Integer> perTenant = new TreeMap<>();
                    base.forEach(f -> f.lease().ifPresent(l -> perTenant.merge(l.tenantId(), 1, Integer::sum)));
                    List<TenantRadius> radius = perTenant.entrySet().stream().map(e -> {
                        int size = w.fleet().getOrDefault(e.getKey(), e.getValue());
                        return new TenantRadius(e.getKey(), e.getValue(), size, size == 0 ? 0 : (double) e.getValue() / size);
                    }).toList();
                    Policy policy = gateFacts.policy();
                    List<Facts> facts = new ArrayList<>(base.size());
                    List<Decision> decisions = new ArrayList<>(base.size());
                    FactsFingerprint fingerprint = new FactsFingerprint();
                    for (Facts f : base) {
                        String tenant = f.lease().map(Facts.LeaseFacts::tenantId).orElse(null);
                        Facts withBulk = new Facts(f.machine(), f.lease(), f.holds(), f.notices(), f.request(), approvals,
                                w.with(ids.size(), tenant, tenant == null ? 1 : perTenant.get(tenant)));
                        facts.add(withBulk);
                        decisions.add(Gate.decide(action, withBulk, policy, now));
                    }
                    stages.mark("decide");
                    // the fingerprint covers what a plan stands on (not the approvals, which it gathers)
                    base.forEach(fingerprint::add);
                    stages.mark("fingerprint");
                    return new Evaluation(facts, decisions, new BlastRadius(ids.size(), perTenant.size(), radius, w.machines()),
                            fingerprint.hex());
                });
        });
    }

    /**
     * One audit entry per tenant the plan touches, holding that tenant's machines' decisions (reason
     * codes): the tenant's evidence shows them, and no entry grows with the size of the whole fleet.
     */
    private Uni<Void> auditPerTenant(String actor, String action, List<UUID> ids, Evaluation ev, Map<String, Object> common) {
        Map<String, List<Integer>> byTenant = new TreeMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String tenant = ev.facts().get(i).lease().map(Facts.LeaseFacts::tenantId).map(t -> "tenant:" + t)
                    .orElse("bulk:" + common.get("planId"));
            byTenant.computeIfAbsent(tenant, k -> new ArrayList<>()).add(i);
        }
        List<AuditLog.Subject> entries = new ArrayList<>(byTenant.size());
        for (var e : byTenant.entrySet()) {
            Map<String, Object> payload = new LinkedHashMap<>(common);
            payload.put("outcomes", decisionsPayload(e.getValue().stream().map(ids::get).toList(),
                    e.getValue().stream().map(ev.decisions()::get).toList()));
            entries.add(new AuditLog.Subject(e.getKey(), payload));
        }
        return audit.recordAll(actor, action, entries);
    }

    /** A plan's audit entries go under every tenant it touches and under the plan. */
    private Uni<Void> auditUnder(String actor, String action, List<UUID> ids, Map<String, Object> payload) {
        return pool.preparedQuery("SELECT DISTINCT m.data_tenant_id FROM machine m JOIN unnest($1::uuid[]) AS sel(id) ON sel.id = m.id "
                + "WHERE m.data_tenant_id IS NOT NULL").execute(Tuple.of(ids.toArray(new UUID[0]))).chain(rows -> {
                    List<String> subjects = new ArrayList<>();
                    rows.forEach(r -> subjects.add("tenant:" + r.getUUID(0)));
                    if (subjects.isEmpty()) {
                        subjects.add("bulk:" + payload.get("planId"));
                    }
                    return audit.recordAll(actor, action, subjects.stream().map(s -> new AuditLog.Subject(s, payload)).toList());
                });
    }

    /**
     * The selector as recorded: a tenant or lease as given; a list of machine ids by its count and the
     * SHA-256 of the ids (one per line, in the given order) — the ids themselves are in the plan's
     * per-tenant entries, and 60,000 of them need not be written twice.
     */
    static Map<String, Object> selectorEvidence(Selector s) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (s.tenantId() != null) {
            out.put("tenantId", s.tenantId().toString());
        }
        if (s.leaseId() != null) {
            out.put("leaseId", s.leaseId().toString());
        }
        if (s.query() != null) {
            out.put("query", s.query());
        }
        if (s.machineIds() != null && !s.machineIds().isEmpty()) {
            StringBuilder joined = new StringBuilder(s.machineIds().size() * 37);
            s.machineIds().forEach(id -> joined.append(id).append('\n'));
            out.put("machineIdCount", s.machineIds().size());
            out.put("machineIdsSha256", AuditHashes.sha256Hex(joined.toString()));
        }
        return out;
    }

    /**
     * A tenant's decisions grouped by outcome: {@code [{"allowed", "reasons": [codes], "machines": [ids]}]}.
     * Machines of one tenant mostly share an outcome, so this is about one id per machine instead of a
     * whole decision object per machine (a plan over 60,000 machines would write 9 MB of audit payload).
     */
    static List<Map<String, Object>> decisionsPayload(List<UUID> ids, List<Decision> decisions) {
        Map<List<String>, List<String>> machinesByOutcome = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            Decision d = decisions.get(i);
            List<String> outcome = new ArrayList<>();
            outcome.add(d.allowed() ? "allowed" : "refused");
            d.reasons().forEach(r -> outcome.add(r.code().name()));
            machinesByOutcome.computeIfAbsent(outcome, k -> new ArrayList<>()).add(ids.get(i).toString());
        }
        List<Map<String, Object>> out = new ArrayList<>();
        machinesByOutcome.forEach((outcome, machines) -> {
            Map<String, Object> group = new LinkedHashMap<>();
            group.put("allowed", outcome.get(0).equals("allowed"));
            group.put("reasons", outcome.subList(1, outcome.size()));
            group.put("machines", machines);
            out.add(group);
        });
        return out;
    }

    private static String summary(List<Decision> decisions) {
        Map<String, Integer> counts = new TreeMap<>();
        decisions.forEach(d -> d.reasons().forEach(r -> counts.merge(r.code().name(), 1, Integer::sum)));
        return counts.toString();
    }

    private static Plan view(UUID id, Action action, String requester, Instant createdAt, Instant expiresAt, Status status, List<UUID> ids,
            Evaluation ev, List<String> approvers, List<Execution> executions) {
        List<MachineDecision> decisions = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            decisions.add(new MachineDecision(ids.get(i), ev.decisions().get(i).allowed(), ev.decisions().get(i).reasons()));
        }
        int allowed = (int) decisions.stream().filter(MachineDecision::allowed).count();
        Map<List<Decision.Code>, int[]> counts = new LinkedHashMap<>();
        Map<List<Decision.Code>, Boolean> allowedBy = new HashMap<>();
        for (MachineDecision d : decisions) {
            List<Decision.Code> codes = d.reasons().stream().map(Decision.Reason::code).toList();
            counts.computeIfAbsent(codes, k -> new int[1])[0]++;
            allowedBy.put(codes, d.allowed());
        }
        List<Outcome> outcomes = new ArrayList<>();
        counts.forEach((codes, n) -> outcomes.add(new Outcome(allowedBy.get(codes), codes, n[0])));
        Map<String, Integer> executed = new TreeMap<>();
        executions.forEach(e -> executed.merge(e.outcome(), 1, Integer::sum));
        return new Plan(id, action, requester, createdAt, expiresAt, status, ev.fingerprint(), allowed, decisions.size() - allowed, ev.radius(),
                approvers, outcomes, executed, decisions, executions);
    }

}
