package io.metalgate.conductor;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.common.StateTransitionLog;
import io.metalgate.evidence.AuditLog;
import io.metalgate.driver.api.DriverException;
import io.metalgate.gate.Action;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Gate;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.Machine;
import io.metalgate.machine.MachineLifecycle;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Asks the gate and, when it allows, moves the machine's lifecycle: one transaction holds the audited
 * decision (with the facts it saw), the transition and its audit entry. A refusal is audited too, then
 * answered with every reason. The BMC and boot work behind a transition comes with the driver issues.
 */
@ApplicationScoped
public class ActionService {

    /** What the caller brings besides the action. */
    public record ActionInput(UUID requestId, boolean tenantRequested, String emergencyReason) {
    }

    public record ActionResult(Decision decision, LifecycleState state, UUID requestId) {
    }

    @Inject
    GateFacts gateFacts;
    @Inject
    BmcPower bmcPower;
    @Inject
    Approvals approvals;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;

    public Uni<ActionResult> execute(UUID machineId, Action action, ActionInput in, String person, Set<String> roles) {
        Instant now = Instant.now();
        return decide(machineId, action, in, person, roles, now)
                .chain(d -> record(machineId, action, d.facts(), d.decision(), d.request(), person, now));
    }

    /** What {@link #execute} would decide now, with the facts it would see; changes and records nothing. */
    public Uni<Decided> explain(UUID machineId, Action action, ActionInput in, String person, Set<String> roles, Instant now) {
        return decide(machineId, action, in, person, roles, now);
    }

    /** A decision with the facts it was made on, and the approval request it was made under. */
    public record Decided(Decision decision, Facts facts, Optional<Approvals.RequestView> request) {
    }

    private Uni<Decided> decide(UUID machineId, Action action, ActionInput in, String person, Set<String> roles, Instant now) {
        Uni<Optional<Approvals.RequestView>> request = in.requestId() == null ? Uni.createFrom().item(Optional.empty())
                : approvals.get(in.requestId()).map(r -> {
                    if (!r.machineId().equals(machineId) || r.action() != action) {
                        throw ApiException.badRequest("requestId", "request " + r.id() + " is for " + r.action() + " of machine "
                                + r.machineId());
                    }
                    return Optional.of(r);
                });
        return request.chain(req -> {
            String requester = req.map(Approvals.RequestView::requestedBy).orElse(person);
            return gateFacts.forAction(machineId, action, requester, now).map(f -> {
                boolean emergency = action == Action.POWER_OFF && in.emergencyReason() != null && roles.contains(Gate.APPROVER_ROLE);
                List<Facts.ApprovalFact> approvalFacts = req.map(Approvals::facts).orElse(List.of());
                if (emergency) {
                    approvalFacts = List.of(new Facts.ApprovalFact(person, roles, now));
                }
                Facts facts = new Facts(f.machine(), f.lease(), f.holds(), f.notices(),
                        new Facts.RequestFacts(requester, in.tenantRequested(), Optional.ofNullable(in.emergencyReason()),
                                emergency ? Optional.of(person) : Optional.empty()),
                        approvalFacts, f.bulk());
                return new Decided(Gate.decide(action, facts, gateFacts.policy(), now), facts, req);
            });
        });
    }

    /** Acts on a decision already made (a bulk plan's), auditing it like a single action. */
    Uni<ActionResult> executeDecided(UUID machineId, Action action, Facts facts, Decision decision, String person) {
        return record(machineId, action, facts, decision, Optional.empty(), person, Instant.now());
    }

    private Uni<ActionResult> record(UUID machineId, Action action, Facts facts, Decision decision,
            Optional<Approvals.RequestView> req, String person, Instant now) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("action", action.name());
        payload.put("allowed", decision.allowed());
        payload.put("reasons", decision.reasons());
        payload.put("requestId", req.map(r -> r.id().toString()).orElse(null));
        payload.put("facts", mapper.valueToTree(facts));
        payload.put("decidedAt", now.toString());
        String subject = "machine:" + machineId;
        if (decision.allowed() && action == Action.POWER_OFF) {
            // the BMC first: the lifecycle says "off" only once the machine is; a failure is audited with
            // the decision and answered as the BMC's problem, the lifecycle unchanged
            return bmcPower.powerOff(machineId)
                    .onFailure(DriverException.class).call(e -> Panache.withTransaction(() -> audit.record(person, "gate.decided", subject, payload)
                            .chain(() -> audit.record(person, "bmc.power-off-failed", subject, Map.of("kind", ((DriverException) e).kind().name(),
                                    "detail", e.getMessage())))).call(audit::sequenced))
                    .chain(done -> Panache.withTransaction(() -> audit.record(person, "gate.decided", subject, payload)
                            .chain(() -> audit.record(person, "bmc.powered-off", subject, Map.of("how", done)))
                            .chain(() -> transition(machineId, action, facts, person, req))))
                    .call(audit::sequenced)
                    .map(state -> new ActionResult(decision, state, req.map(Approvals.RequestView::id).orElse(null)));
        }
        Uni<LifecycleState> work = Panache.withTransaction(() -> audit.record(person, "gate.decided", subject, payload)
                .chain(() -> decision.allowed() ? transition(machineId, action, facts, person, req) : Uni.createFrom().nullItem()));
        return work.call(audit::sequenced).map(state -> {
            if (!decision.allowed()) {
                throw new ApiException(Problem.of(409, "gate-refused", "Refused by the gate", action + " of machine " + machineId
                        + " is not allowed: " + decision.reasons().size() + " reason(s)")
                        .withErrors(decision.reasons().stream().map(r -> new Problem.FieldError(r.code().name(), r.message())).toList()));
            }
            return new ActionResult(decision, state, req.map(Approvals.RequestView::id).orElse(null));
        });
    }

    /** The lifecycle step an allowed action means, if any (a power-off of an unleased machine changes no state). */
    private Uni<LifecycleState> transition(UUID machineId, Action action, Facts facts, String person,
            Optional<Approvals.RequestView> req) {
        return Machine.<Machine>findById(machineId).chain(m -> {
            MachineLifecycle.Event event = switch (action) {
                case ERASE -> m.lifecycleState == LifecycleState.ERASE_FAILED ? MachineLifecycle.Event.RETRY : MachineLifecycle.Event.ERASE;
                case REASSIGN -> MachineLifecycle.Event.REASSIGN;
                case POWER_OFF -> facts.lease().map(l -> switch (l.state()) {
                    case "SUSPENDED" -> MachineLifecycle.Event.SUSPEND;
                    case "TERMINATED", "CLOSED" -> MachineLifecycle.Event.RETAIN;
                    default -> null;
                }).orElse(null);
            };
            var row = event == null ? Optional.<io.metalgate.common.Transitions.Row<LifecycleState, MachineLifecycle.Event>>empty()
                    : MachineLifecycle.TABLE.find(m.lifecycleState, event);
            Uni<Void> executed = req.isPresent() ? approvals.markExecuted(req.get().id()) : Uni.createFrom().voidItem();
            if (row.isEmpty()) {
                if (action != Action.POWER_OFF) {
                    throw new ApiException(Problem.of(409, "illegal-transition", "Illegal transition", "a " + m.lifecycleState
                            + " machine has no " + event + " transition")
                            .withAllowedEvents(MachineLifecycle.TABLE.allowedEvents(m.lifecycleState).stream().map(Enum::name).toList()));
                }
                return executed.replaceWith(m.lifecycleState);
            }
            LifecycleState from = m.lifecycleState;
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            m.lifecycleState = row.get().to();
            m.updatedAt = now;
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("from", from.name());
            payload.put("event", event.name());
            payload.put("to", m.lifecycleState.name());
            payload.put("guard", row.get().guard());
            return Panache.flush()
                    .chain(() -> StateTransitionLog.record(StateTransitionLog.SubjectType.MACHINE, machineId, from.name(), event.name(),
                            m.lifecycleState.name(), person, "gate allowed " + action, now))
                    .chain(() -> audit.record(person, "machine.transitioned", "machine:" + machineId, payload))
                    .chain(() -> executed)
                    .replaceWith(m.lifecycleState);
        });
    }
}
