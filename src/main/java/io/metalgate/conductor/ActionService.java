package io.metalgate.conductor;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.evidence.AuditLog;
import io.metalgate.gate.Action;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Gate;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Asks the gate and, when it allows, acts. Under the machine's lock ({@link MachineTasks}), in one
 * transaction: read the facts, decide, audit the decision with the facts it saw, and either fire the
 * lifecycle transition (erase, reassign) or record the BMC intent (power-off). The BMC is driven only
 * after that commit; its outcome, and the transition it completes, are recorded after, under the lock
 * again ({@link BmcIntents}). An allowed decision is audited even when what follows fails.
 */
@ApplicationScoped
public class ActionService {

    /** What the caller brings besides the action. */
    public record ActionInput(UUID requestId, UUID tenantRequestId, String emergencyReason, BmcRequest bmc) {

        public ActionInput(UUID requestId, UUID tenantRequestId, String emergencyReason) {
            this(requestId, tenantRequestId, emergencyReason, null);
        }
    }

    /**
     * The BMC operation an allowed action carries out, when the action names more than one (a graceful
     * power-off; a cycle or a reset; which boot override; inserting or ejecting a medium).
     */
    public record BmcRequest(BmcIntents.Operation operation, BmcOperations.Params params) {
    }

    public record ActionResult(Decision decision, LifecycleState state, UUID requestId) {
    }

    /** A decision with the facts it was made on, and the approval request it was made under. */
    public record Decided(Decision decision, Facts facts, Optional<Approvals.RequestView> request) {
    }

    /**
     * Who asks under which approvals: a single action's (its request, or an emergency approver), or a bulk
     * plan's (the plan's requester, approvals and blast radius).
     */
    record Ask(Action action, String requester, String actor, Set<String> roles, ActionInput input,
            Optional<List<Facts.ApprovalFact>> planApprovals, Optional<GateFacts.PlanBatch> planBatch, UUID planId, Integer eraseSlots) {
    }

    /**
     * What a decision transaction left behind; {@code waiting}: a queued plan erase that was not started (no slot free,
     * or not QUEUED any more: another execution took it), and nothing was decided.
     */
    record Done(Decided decided, LifecycleState state, UUID intentId, ApiException refusal, UUID eraseBoot, String waiting) {

        Done(Decided decided, LifecycleState state, UUID intentId, ApiException refusal) {
            this(decided, state, intentId, refusal, null, null);
        }

        Done(Decided decided, LifecycleState state, UUID intentId, ApiException refusal, UUID eraseBoot) {
            this(decided, state, intentId, refusal, eraseBoot, null);
        }

        static Done waiting(String why) {
            return new Done(null, null, null, null, null, why);
        }
    }

    /** How an erased machine boots its agent: from the network, once (its next boot after that is its own again). */
    static final io.metalgate.driver.api.BootOverride ERASE_BOOT = new io.metalgate.driver.api.BootOverride(
            io.metalgate.driver.api.BootOverride.Device.PXE, false, io.metalgate.driver.api.BootOverride.Mode.UEFI);

    /** The advisory lock that serialises erase decisions (any number: it only has to be the same everywhere). */
    static final long ERASE_WINDOW_LOCK = 0x6d67_6572_6173_65L; // "mgerase"

    @Inject
    io.micrometer.core.instrument.MeterRegistry metrics;
    @Inject
    Pool pool;
    @Inject
    MachineTasks tasks;
    @Inject
    GateFacts gateFacts;
    @Inject
    BmcIntents intents;
    @Inject
    Approvals approvals;
    @Inject
    TenantRequests tenantRequests;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;

    public Uni<ActionResult> execute(UUID machineId, Action action, ActionInput in, String person, Set<String> roles) {
        checkOperation(action, in.bmc());
        return act(machineId, new Ask(action, null, person, roles, in, Optional.empty(), Optional.empty(), null, null))
                .map(done -> {
                    if (done.refusal() != null) {
                        throw done.refusal();
                    }
                    return result(done);
                });
    }

    /** What {@link #execute} would decide now, with the facts it would see; changes and records nothing. */
    public Uni<Decided> explain(UUID machineId, Action action, ActionInput in, String person, Set<String> roles, Instant now) {
        return decide(pool, machineId, new Ask(action, null, person, roles, in, Optional.empty(), Optional.empty(), null, null), now);
    }

    /**
     * A bulk plan's machine, decided again now under its lock with the plan's approvals and blast radius:
     * the plan's own decision was the preview. Refusals and BMC failures are outcomes, not errors.
     */
    Uni<Done> actForPlan(UUID machineId, Action action, String requester, List<Facts.ApprovalFact> planApprovals,
            GateFacts.PlanBatch batch, String person, UUID planId) {
        return act(machineId, new Ask(action, requester, person, Set.of(), new ActionInput(null, null, null), Optional.of(planApprovals),
                Optional.of(batch), planId, null));
    }

    /**
     * A bulk erase's machine QUEUED on its plan, started only while fewer than {@code slots} machines are ERASING: under
     * its lock and the appliance-wide erase lock, it must still be QUEUED (not taken by another execution) and a slot
     * free; then it is decided again now, and its outcome (DONE, REFUSED, FAILED) stored on the plan in the same
     * transaction. Otherwise nothing is decided and it stays QUEUED ({@link Done#waiting}).
     */
    Uni<Done> startQueuedErase(UUID machineId, String requester, List<Facts.ApprovalFact> planApprovals, GateFacts.PlanBatch batch,
            String person, UUID planId, int slots) {
        return act(machineId, new Ask(Action.ERASE, requester, person, Set.of(), new ActionInput(null, null, null), Optional.of(planApprovals),
                Optional.of(batch), planId, slots));
    }

    private Uni<Done> act(UUID machineId, Ask ask) {
        Instant now = Instant.now();
        return tasks.withLock(machineId, m -> slot(m, ask).chain(waiting -> waiting != null ? Uni.createFrom().item(waiting)
                : decide(m.tx(), machineId, ask, now).chain(d -> record(m, ask, d, now)).call(done -> settleQueued(m, ask, done, now))))
                .chain(done -> done.waiting() != null ? Uni.createFrom().item(done)
                        : done.eraseBoot() != null ? intents.bootForErase(machineId, done.eraseBoot(), done.intentId(), ask.actor())
                        .map(state -> new Done(done.decided(), state, null, null))
                        : done.intentId() == null ? Uni.createFrom().item(done)
                        : intents.drive(done.intentId(), ask.actor()).map(state -> new Done(done.decided(), state, null, null)));
    }

    /**
     * For a queued plan erase, in the lock's transaction: null when it may be decided now (still QUEUED on its plan,
     * fewer than its slots ERASING, counted under the erase lock that every erase start takes), else why it waits.
     */
    private Uni<Done> slot(MachineTasks.Locked m, Ask ask) {
        if (ask.eraseSlots() == null) {
            return Uni.createFrom().nullItem();
        }
        return m.tx().preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(io.vertx.mutiny.sqlclient.Tuple.of(ERASE_WINDOW_LOCK))
                .chain(() -> m.tx().preparedQuery("SELECT outcome FROM bulk_plan_outcome WHERE plan_id = $1 AND machine_id = $2 FOR UPDATE")
                        .execute(io.vertx.mutiny.sqlclient.Tuple.of(ask.planId(), m.id())))
                .chain(rows -> {
                    String outcome = rows.rowCount() == 0 ? null : rows.iterator().next().getString("outcome");
                    if (!"QUEUED".equals(outcome)) {
                        return Uni.createFrom().item(Done.waiting("not queued on plan " + ask.planId() + " any more: " + outcome));
                    }
                    return m.tx().query("SELECT count(*) FROM machine WHERE lifecycle_state = 'ERASING'").execute().map(c -> {
                        long erasing = c.iterator().next().getLong(0);
                        return erasing >= ask.eraseSlots() ? Done.waiting("waiting for an erase slot: " + erasing + " of "
                                + ask.eraseSlots() + " machines are ERASING") : null;
                    });
                });
    }

    /** A started queued erase's outcome on its plan, in the transaction of its decision (so no one starts it twice). */
    private Uni<Void> settleQueued(MachineTasks.Locked m, Ask ask, Done done, Instant now) {
        if (ask.eraseSlots() == null) {
            return Uni.createFrom().voidItem();
        }
        BulkPlans.Acted o = BulkPlans.acted(done);
        return m.tx().preparedQuery("UPDATE bulk_plan_outcome SET outcome = $3, detail = $4, at = $5 WHERE plan_id = $1 AND machine_id = $2")
                .execute(io.vertx.mutiny.sqlclient.Tuple.of(ask.planId(), m.id(), o.outcome(), o.detail(),
                        now.atOffset(java.time.ZoneOffset.UTC)))
                .replaceWithVoid();
    }

    private Uni<Decided> decide(SqlClient db, UUID machineId, Ask ask, Instant now) {
        ActionInput in = ask.input();
        Action action = ask.action();
        Uni<Optional<Approvals.RequestView>> request = in.requestId() == null ? Uni.createFrom().item(Optional.empty())
                : approvals.get(db, in.requestId()).map(r -> {
                    if (!r.machineId().equals(machineId) || r.action() != action) {
                        throw ApiException.badRequest("requestId", "request " + r.id() + " is for " + r.action() + " of machine "
                                + r.machineId());
                    }
                    return Optional.of(r);
                });
        return request.chain(req -> {
            // a spent, rejected or expired request names no one: the person acting is then the requester (else an approver
            // could carry out a used rescue request again and again, its asker standing in as the second person)
            String requester = ask.requester() != null ? ask.requester()
                    : req.filter(Approvals::live).map(Approvals.RequestView::requestedBy).orElse(ask.actor());
            Uni<Optional<Facts.TenantRequestFact>> tenantRequest = in.tenantRequestId() == null ? Uni.createFrom().item(Optional.empty())
                    : tenantRequests.fact(db, in.tenantRequestId(), machineId, action, now).map(Optional::of);
            // erases are decided one at a time appliance-wide: the blast-radius window counts committed erases, so two
            // decided side by side would each miss the other
            Uni<Void> serial = action == Action.ERASE && db != pool
                    ? db.preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(io.vertx.mutiny.sqlclient.Tuple.of(ERASE_WINDOW_LOCK))
                            .replaceWithVoid()
                    : Uni.createFrom().voidItem();
            return serial.chain(() -> tenantRequest).chain(tr -> gateFacts.forAction(db, machineId, action, requester, now, ask.planBatch())
                    .map(f -> {
                boolean emergency = (action == Action.POWER_OFF || action == Action.POWER_CYCLE || action == Action.BOOT_EXTERNAL
                        || action == Action.BOOT_LOCAL)
                        && in.emergencyReason() != null
                        && ask.roles().contains(Gate.APPROVER_ROLE);
                List<Facts.ApprovalFact> approvalFacts = ask.planApprovals().orElseGet(() -> req.map(Approvals::facts).orElse(List.of()));
                if (emergency) {
                    // the approver acting in an emergency approves by acting; a request's approvals still count (a rescue
                    // boot on a tenant's data is asked by one person and approved by another)
                    List<Facts.ApprovalFact> with = new java.util.ArrayList<>(approvalFacts);
                    with.add(new Facts.ApprovalFact(ask.actor(), ask.roles(), now));
                    approvalFacts = List.copyOf(with);
                }
                Facts facts = new Facts(f.machine(), f.lease(), f.holds(), f.notices(),
                        new Facts.RequestFacts(requester, tr, Optional.ofNullable(in.emergencyReason()),
                                emergency ? Optional.of(ask.actor()) : Optional.empty()),
                        approvalFacts, f.bulk());
                return new Decided(Gate.decide(action, facts, gateFacts.policy(), now), facts, req);
            }));
        });
    }

    /**
     * In the lock's transaction: the decision's audit entry first (so it stands whatever follows), then
     * what an allowed action means. A refusal is committed with its audit entry and answered after.
     */
    private Uni<Done> record(MachineTasks.Locked m, Ask ask, Decided d, Instant now) {
        Decision decision = d.decision();
        Action action = ask.action();
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("requestId", d.request().map(r -> r.id().toString()).orElse(null));
        context.put("planId", ask.planId() == null ? null : ask.planId().toString());
        Uni<Void> audited = auditDecision(m.tx(), ask.actor(), m.id(), decision, d.facts(), now, context);
        if (!decision.allowed()) {
            return audited.replaceWith(new Done(d, m.state(), null, refused(action, m.id(), decision)));
        }
        Uni<Void> used = d.request().isPresent() ? approvals.markExecuted(m.tx(), d.request().get().id()) : Uni.createFrom().voidItem();
        Optional<Facts.TenantRequestFact> tr = d.facts().request().tenantRequest();
        if (tr.isPresent()) {
            used = used.chain(() -> tenantRequests.markUsed(m.tx(), UUID.fromString(tr.get().id()), now));
        }
        Uni<Void> marks = used;
        Uni<Void> prepared = audited.chain(() -> marks);
        if (action == Action.POWER_OFF) {
            MachineLifecycle.Event event = d.facts().lease().map(l -> switch (l.state()) {
                case SUSPENDED -> MachineLifecycle.Event.SUSPEND;
                case TERMINATED, CLOSED -> MachineLifecycle.Event.RETAIN;
                default -> null;
            }).orElse(null);
            if (event != null && MachineLifecycle.TABLE.find(m.state(), event).isEmpty()) {
                event = null; // already off for this reason (e.g. SUSPENDED): the power-off alone
            }
            MachineLifecycle.Event fired = event;
            BmcIntents.Operation op = ask.input().bmc() != null && ask.input().bmc().operation() == BmcIntents.Operation.GRACEFUL_OFF
                    ? BmcIntents.Operation.GRACEFUL_OFF : BmcIntents.Operation.POWER_OFF;
            return prepared.chain(() -> intents.record(m, op, BmcOperations.Params.NONE, fired, ask.actor(), "gate allowed POWER_OFF"))
                    .map(intent -> new Done(d, m.state(), intent, null));
        }
        if (action.isBmcOperation()) {
            BmcRequest bmc = ask.input().bmc() != null ? ask.input().bmc() : defaultOperation(action);
            return prepared.chain(() -> intents.record(m, bmc.operation(), bmc.params(), null, ask.actor(), "gate allowed " + action))
                    .map(intent -> new Done(d, m.state(), intent, null));
        }
        MachineLifecycle.Event event = switch (action) {
            case ERASE -> m.state() == LifecycleState.ERASE_FAILED ? MachineLifecycle.Event.RETRY : MachineLifecycle.Event.ERASE;
            case REASSIGN -> MachineLifecycle.Event.REASSIGN;
            default -> throw new IllegalStateException(action.name());
        };
        if (MachineLifecycle.TABLE.find(m.state(), event).isEmpty()) {
            // The gate's start states come from the same table, so this is a bug if it happens; the allowed
            // decision stays audited, with what stopped it.
            ApiException illegal = MachineTasks.illegal(m.state(), event);
            return audited.chain(() -> audit.record(m.tx(), ask.actor(), "action.not-carried-out", "machine:" + m.id(),
                    Map.of("action", action.name(), "detail", illegal.problem().detail())))
                    .replaceWith(new Done(d, m.state(), null, illegal));
        }
        Uni<Void> tallied = action == Action.ERASE ? prepared.chain(() -> GateFacts.tallyErase(m.tx(), m.dataTenantId(),
                ask.planId() == null ? GateFacts.NO_PLAN : ask.planId())) : prepared;
        Uni<LifecycleState> fired = tallied.chain(() -> tasks.fire(m, event, MachineLifecycle.Context.allowed(action.name()), ask.actor(),
                "gate allowed " + action));
        if (action != Action.ERASE) {
            return fired.map(to -> new Done(d, to, null, null));
        }
        // the erase boots the agent: a one-time PXE boot and a power cycle, each an intent recorded with the decision and
        // driven after it (the agent then asks for its task, and the gate decides again)
        return fired.chain(to -> intents.record(m, BmcIntents.Operation.SET_BOOT, new BmcOperations.Params(ERASE_BOOT, null, null), null,
                ask.actor(), "the erase boots the agent from the network")
                .chain(boot -> intents.record(m, BmcIntents.Operation.POWER_CYCLE, BmcOperations.Params.NONE, null, ask.actor(),
                        "the erase boots the agent from the network").map(cycle -> new Done(d, to, cycle, null, boot))));
    }

    /** The operation must be one the action's gate rules are about: a boot override is not decided as a power-on. */
    static void checkOperation(Action action, BmcRequest bmc) {
        if (bmc == null) {
            if (action == Action.BOOT_EXTERNAL) {
                defaultOperation(action); // throws: it needs its medium
            }
            return;
        }
        BmcIntents.Operation op = bmc.operation();
        boolean fits = switch (action) {
            case POWER_OFF -> op == BmcIntents.Operation.POWER_OFF || op == BmcIntents.Operation.GRACEFUL_OFF;
            case POWER_ON -> op == BmcIntents.Operation.POWER_ON;
            case POWER_CYCLE -> op == BmcIntents.Operation.POWER_CYCLE || op == BmcIntents.Operation.RESET;
            case BOOT_LOCAL -> op == BmcIntents.Operation.MEDIA_EJECT || op == BmcIntents.Operation.SET_BOOT && bmc.params().boot() != null
                    && (bmc.params().boot().device() == io.metalgate.driver.api.BootOverride.Device.DISK
                            || bmc.params().boot().device() == io.metalgate.driver.api.BootOverride.Device.NONE);
            case BOOT_EXTERNAL -> op == BmcIntents.Operation.MEDIA_INSERT && bmc.params().imageUrl() != null
                    || op == BmcIntents.Operation.SET_BOOT && bmc.params().boot() != null;
            default -> false;
        };
        if (!fits) {
            throw new IllegalArgumentException(op + " is not carried out under the gate's " + action + " rules");
        }
    }

    /** A gate decision's audit entry: the action, whether allowed, every reason, the facts it saw, when; and its context. */
    Uni<Void> auditDecision(SqlClient tx, String actor, UUID machine, Decision decision, Facts facts, Instant now, Map<String, Object> context) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("action", decision.action().name());
        payload.put("allowed", decision.allowed());
        payload.put("reasons", decision.reasons());
        payload.putAll(context);
        payload.put("facts", mapper.valueToTree(facts));
        payload.put("decidedAt", now.toString());
        metrics.counter("metalgate_gate_decisions", "action", decision.action().name(), "outcome", decision.allowed() ? "allowed" : "refused")
                .increment();
        return audit.record(tx, actor, "gate.decided", "machine:" + machine, payload);
    }

    /** What an action asked for without naming the operation (a bulk plan's, the API's) carries out. */
    static BmcRequest defaultOperation(Action action) {
        return switch (action) {
            case POWER_ON -> new BmcRequest(BmcIntents.Operation.POWER_ON, BmcOperations.Params.NONE);
            case POWER_CYCLE -> new BmcRequest(BmcIntents.Operation.POWER_CYCLE, BmcOperations.Params.NONE);
            case BOOT_LOCAL -> new BmcRequest(BmcIntents.Operation.SET_BOOT, new BmcOperations.Params(
                    new io.metalgate.driver.api.BootOverride(io.metalgate.driver.api.BootOverride.Device.DISK, false,
                            io.metalgate.driver.api.BootOverride.Mode.UEFI), null, null));
            default -> throw ApiException.badRequest("action", action + " needs its operation (a boot override, an image URL): "
                    + "use the machine's power, boot-device or virtual-media endpoint");
        };
    }

    private static ActionResult result(Done done) {
        return new ActionResult(done.decided().decision(), done.state(), done.decided().request().map(Approvals.RequestView::id).orElse(null));
    }

    static ApiException refused(Action action, UUID machineId, Decision decision) {
        return new ApiException(Problem.of(409, "gate-refused", "Refused by the gate", action + " of machine " + machineId
                + " is not allowed: " + decision.reasons().size() + " reason(s)")
                .withErrors(decision.reasons().stream().map(r -> new Problem.FieldError(r.code().name(), r.message())).toList()));
    }
}
