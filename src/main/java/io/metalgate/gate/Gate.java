package io.metalgate.gate;

import io.metalgate.gate.Decision.Code;
import io.metalgate.gate.Decision.Reason;
import io.metalgate.gate.Facts.ApprovalFact;
import io.metalgate.gate.Facts.AttemptFact;
import io.metalgate.gate.Facts.Outcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The gate: {@code decide(action, facts, policy, now)}, a pure function. It reads no clock, database or
 * configuration; the same arguments always give the same decision, which lists <em>every</em> reason
 * that blocks (so "why can't I erase this?" has a complete answer). Rules: domain.md "The gate".
 */
public final class Gate {

    /** The role that approves actions (and, for bulk actions, the second approval). */
    public static final String APPROVER_ROLE = "approver";
    static final String TERMINATION_NOTICE = "TERMINATION";
    /**
     * Lifecycle states whose BMC is known to be this machine's own: verified, and not retired. A positive list, so
     * a state added later is unverified until someone says otherwise.
     */
    static final Set<Facts.MachineState> VERIFIED = java.util.EnumSet.of(Facts.MachineState.MANAGEABLE, Facts.MachineState.INSPECTING,
            Facts.MachineState.AVAILABLE, Facts.MachineState.DEPLOYING, Facts.MachineState.ACTIVE, Facts.MachineState.SUSPENDED,
            Facts.MachineState.RETAINED, Facts.MachineState.ERASING, Facts.MachineState.ERASED, Facts.MachineState.DEPLOY_FAILED,
            Facts.MachineState.ERASE_FAILED);
    /** Lifecycle states whose BMC is not (or no longer) known to be this machine's own, or that left the pool. */
    static final Set<Facts.MachineState> UNVERIFIED = java.util.EnumSet.complementOf(java.util.EnumSet.copyOf(VERIFIED));
    /** Lifecycle states of a machine that serves a tenant. */
    static final Set<Facts.MachineState> IN_SERVICE = java.util.EnumSet.of(Facts.MachineState.DEPLOYING, Facts.MachineState.ACTIVE,
            Facts.MachineState.SUSPENDED);

    private Gate() {
    }

    /** Whether a machine in {@code state} has a BMC known to be its own (verified, not retired). */
    public static boolean bmcVerified(Facts.MachineState state) {
        return VERIFIED.contains(state);
    }

    public static Decision decide(Action action, Facts facts, Policy policy, Instant now) {
        List<Reason> reasons = new ArrayList<>();
        switch (action) {
            case POWER_OFF -> {
                powerOff(facts, reasons);
                notErasing(action, facts, reasons);
            }
            case ERASE -> erase(facts, policy, now, reasons);
            case REASSIGN -> reassign(facts, policy, reasons);
            case POWER_ON -> {
                verified(facts, reasons);
                notErasing(action, facts, reasons);
            }
            case BOOT_LOCAL -> {
                // a tenant's running machine is its own: even its boot order (a legacy override strands a UEFI system)
                // changes only as a power-off would
                if (facts.lease().isPresent() && IN_SERVICE.contains(facts.machine().state())) {
                    powerOff(facts, reasons);
                } else {
                    verified(facts, reasons);
                }
                notErasing(action, facts, reasons);
            }
            case POWER_CYCLE -> {
                powerOff(facts, reasons);
                notErasing(action, facts, reasons);
            }
            case BOOT_EXTERNAL -> bootExternal(facts, reasons);
            case ERASE_CONTINUE -> eraseContinue(facts, policy, now, reasons);
            default -> throw new IllegalArgumentException("unknown action " + action);
        }
        return new Decision(action, reasons.isEmpty(), reasons);
    }

    /**
     * An ACTIVE lease's machine goes off only at the tenant's request (recorded with its proof and confirmed
     * by a second person), or by an approver's emergency override with a reason.
     */
    private static void powerOff(Facts f, List<Reason> reasons) {
        verified(f, reasons);
        if (f.lease().isEmpty()) {
            // a machine in service always holds a lease's data; one that seems not to is not powered off on that seeming
            if (IN_SERVICE.contains(f.machine().state())) {
                reasons.add(new Reason(Code.MACHINE_STATE, "the machine is " + f.machine().state() + " but no lease's data is recorded "
                        + "with it; an in-service machine is not powered off without its lease's facts"));
            }
            return;
        }
        Facts.LeaseState state = f.lease().get().state();
        if (state == Facts.LeaseState.SUSPENDED || state == Facts.LeaseState.TERMINATED || state == Facts.LeaseState.CLOSED) {
            return;
        }
        if (tenantConfirmed(f, reasons)) {
            return;
        }
        boolean approverHoldsRole = emergencyByApprover(f);
        boolean hasReason = f.request().emergencyReason().filter(r -> !r.isBlank()).isPresent();
        if (approverHoldsRole && hasReason) {
            return;
        }
        if (approverHoldsRole) {
            reasons.add(new Reason(Code.EMERGENCY_WITHOUT_REASON, "an emergency override needs a reason"));
        }
        reasons.add(new Reason(Code.LEASE_ACTIVE, "the lease is " + state + ": power-off needs the tenant's confirmed request, a "
                + "SUSPENDED or TERMINATED lease, or an approver's emergency override with a reason"));
    }

    /**
     * A BMC not verified as this machine's (unreachable, wrong credentials, or the same hardware as another
     * machine) is not driven: it may be another server's.
     */
    private static void verified(Facts f, List<Reason> reasons) {
        if (UNVERIFIED.contains(f.machine().state())) {
            reasons.add(new Reason(Code.MACHINE_STATE, "the machine is " + f.machine().state() + ": its BMC is not verified as this "
                    + "machine's, so it is not driven"));
        }
    }

    /** While a machine is ERASING the erase flow alone drives its power and boot: an operator's step would cut it short. */
    private static void notErasing(Action action, Facts f, List<Reason> reasons) {
        if (f.machine().state() == Facts.MachineState.ERASING) {
            reasons.add(new Reason(Code.MACHINE_STATE, "the machine is ERASING: the erase flow drives its power and boot, so " + action
                    + " is not carried out"));
        }
    }

    /** Whether the tenant asked, its request confirmed by a second person; an unconfirmed request is a reason. */
    private static boolean tenantConfirmed(Facts f, List<Reason> reasons) {
        var tenantRequest = f.request().tenantRequest();
        if (tenantRequest.isEmpty()) {
            return false;
        }
        var t = tenantRequest.get();
        if (t.confirmedBy().isPresent() && !t.confirmedBy().get().equals(t.recordedBy())) {
            return true;
        }
        reasons.add(new Reason(Code.TENANT_REQUEST_UNCONFIRMED, "the tenant's request " + t.id() + " (recorded by " + t.recordedBy()
                + ") is not confirmed by a second person"));
        return false;
    }

    /** Whether an emergency override was asked by someone who holds the approver role. */
    private static boolean emergencyByApprover(Facts f) {
        var approver = f.request().emergencyApprover();
        return approver.isPresent()
                && f.approvals().stream().anyMatch(a -> a.approver().equals(approver.get()) && a.roles().contains(APPROVER_ROLE));
    }

    /**
     * Booting a foreign medium can overwrite the disks, so on a machine that holds a tenant's data (leased since its
     * last erase) it needs what disrupting the tenant needs, whatever the lease's state (the data outlives the lease):
     * the tenant's confirmed request, or a rescue on a running tenant's machine with a reason, asked by one person and
     * approved by an approver who is not them (one person with a wiping medium would be an erase without the erase's
     * rules); and no hold may cover it. A machine whose data was erased since its last lease boots anything.
     */
    private static void bootExternal(Facts f, List<Reason> reasons) {
        verified(f, reasons);
        notErasing(Action.BOOT_EXTERNAL, f, reasons);
        if (!f.machine().leasedSinceLastErase()) {
            return;
        }
        holds(f, reasons);
        if (tenantConfirmed(f, reasons)) {
            return;
        }
        String requester = f.request().requester();
        boolean approverHoldsRole = emergencyByApprover(f);
        // the approver who is not the requester carries it out (and so chooses the medium): an approval given to a
        // request that names no medium does not let the requester boot one of their choosing
        boolean secondApprover = approverHoldsRole && !f.request().emergencyApprover().orElseThrow().equals(requester);
        boolean hasReason = f.request().emergencyReason().filter(r -> !r.isBlank()).isPresent();
        // a rescue is the running tenant's; a terminated tenant's data is kept, not rescued
        boolean live = f.lease().map(l -> l.state() != Facts.LeaseState.TERMINATED && l.state() != Facts.LeaseState.CLOSED).orElse(false);
        if (secondApprover && hasReason && live) {
            return;
        }
        if (approverHoldsRole && !live) {
            reasons.add(new Reason(Code.TENANT_DATA, "the machine holds a tenant's data: an emergency override boots a rescue medium on a "
                    + "running tenant's machine only, and this one keeps the data of a " + f.lease().map(l -> l.state().name()).orElse("unknown")
                    + " lease (the tenant's confirmed request is needed)"));
            return;
        }
        if (approverHoldsRole && !hasReason) {
            reasons.add(new Reason(Code.EMERGENCY_WITHOUT_REASON, "an emergency override needs a reason"));
        }
        if (approverHoldsRole && hasReason && !secondApprover) {
            reasons.add(new Reason(Code.SELF_APPROVAL, requester + " cannot approve their own rescue boot: one person asks for it "
                    + "(an action request) and an approver who is not them carries it out with the reason"));
        }
        reasons.add(new Reason(Code.TENANT_DATA, "the machine holds a tenant's data (leased since its last erase): booting a network or "
                + "removable medium could overwrite it, so it needs the tenant's confirmed request, or an emergency rescue with a "
                + "reason asked by one person and approved by an approver who is not them"));
    }

    /** The lifecycle table's start states for {@code action} (from the policy); none named means any. */
    private static void machineState(Action action, Facts f, Policy p, List<Reason> reasons) {
        Set<Facts.MachineState> from = p.fromStates().get(action);
        if (from != null && !from.contains(f.machine().state())) {
            reasons.add(new Reason(action == Action.REASSIGN ? Code.NOT_ERASED : Code.MACHINE_STATE, "the machine is " + f.machine().state()
                    + "; " + action + " starts from " + from.stream().map(Enum::name).sorted().toList()));
        }
    }

    private static void erase(Facts f, Policy p, Instant now, List<Reason> reasons) {
        var m = f.machine();
        machineState(Action.ERASE, f, p, reasons);
        holds(f, reasons);
        if (m.leasedSinceLastErase()) {
            var lease = f.lease();
            var terminatedAt = lease.flatMap(Facts.LeaseFacts::terminatedAt);
            boolean terminated = lease.isPresent() && (lease.get().state() == Facts.LeaseState.TERMINATED
                    || lease.get().state() == Facts.LeaseState.CLOSED)
                    && terminatedAt.isPresent();
            if (!terminated) {
                reasons.add(new Reason(Code.LEASE_NOT_TERMINATED, "the lease is "
                        + lease.map(l -> l.state().name()).orElse("unknown") + "; only a TERMINATED lease's machines are erased"));
            } else if (terminatedAt.get().plus(p.retention()).isAfter(now)) {
                reasons.add(new Reason(Code.RETENTION, "the retention period runs until " + terminatedAt.get().plus(p.retention())
                        + " (" + p.retention().toDays() + " days after termination)"));
            }
            notice(f, p, now, reasons);
        }
        approvals(f, p, reasons);
    }

    /** The erase decided again when its agent asks: what protects the data, not who approved (ERASE settled that). */
    private static void eraseContinue(Facts f, Policy p, Instant now, List<Reason> reasons) {
        if (f.machine().state() != Facts.MachineState.ERASING) {
            reasons.add(new Reason(Code.MACHINE_STATE, "the machine is " + f.machine().state() + ", not ERASING"));
        }
        holds(f, reasons);
        if (f.machine().leasedSinceLastErase()) {
            var lease = f.lease();
            var terminatedAt = lease.flatMap(Facts.LeaseFacts::terminatedAt);
            boolean terminated = lease.isPresent() && (lease.get().state() == Facts.LeaseState.TERMINATED
                    || lease.get().state() == Facts.LeaseState.CLOSED) && terminatedAt.isPresent();
            if (!terminated) {
                reasons.add(new Reason(Code.LEASE_NOT_TERMINATED, "the lease is " + lease.map(l -> l.state().name()).orElse("unknown")
                        + " now; only a TERMINATED lease's machines are erased"));
            } else if (terminatedAt.get().plus(p.retention()).isAfter(now)) {
                reasons.add(new Reason(Code.RETENTION, "the retention period runs until " + terminatedAt.get().plus(p.retention())));
            }
            notice(f, p, now, reasons);
        }
    }

    private static void reassign(Facts f, Policy p, List<Reason> reasons) {
        var m = f.machine();
        machineState(Action.REASSIGN, f, p, reasons);
        if (m.certificate().isEmpty()) {
            reasons.add(new Reason(Code.NO_CERTIFICATE, "there is no erase certificate"));
        } else {
            var cert = m.certificate().get();
            if (!cert.valid()) {
                reasons.add(new Reason(Code.CERTIFICATE_INVALID, "the erase certificate's signature does not verify"));
            }
            // the certificate names disks as the agent spelled them, the inventory as the BMC did (DiskSerials)
            Set<String> certified = DiskSerials.byKey(cert.diskSerials()).keySet();
            Set<String> missing = new TreeSet<>();
            for (String serial : m.diskSerials()) {
                if (DiskSerials.key(serial).map(k -> !certified.contains(k)).orElse(true)) {
                    missing.add(serial);
                }
            }
            if (!missing.isEmpty() || m.diskSerials().isEmpty()) {
                reasons.add(new Reason(Code.CERTIFICATE_INCOMPLETE, m.diskSerials().isEmpty()
                        ? "the inventory lists no disks, so no certificate can be shown to cover them"
                        : "the erase certificate does not cover disks " + missing));
            }
        }
        holds(f, reasons);
    }

    private static void holds(Facts f, List<Reason> reasons) {
        for (var h : f.holds()) {
            reasons.add(new Reason(Code.HOLD, h.kind() + " hold " + h.id() + " (placed " + h.placedAt() + ") covers this machine"));
        }
    }

    /**
     * Proof of notice: a termination notice delivered or acknowledged at least {@code noticeLead} ago; or,
     * when no delivery can be proven at all, enough attempts on enough channels, the first long enough ago.
     */
    private static void notice(Facts f, Policy p, Instant now, List<Reason> reasons) {
        List<AttemptFact> all = f.notices().stream().filter(n -> n.kind().equals(TERMINATION_NOTICE))
                .flatMap(n -> n.attempts().stream()).toList();
        List<AttemptFact> attempts = all.stream().filter(AttemptFact::proven).toList();
        long claims = all.size() - attempts.size();
        String unconfirmed = claims == 0 ? "" : " (" + claims + " attempt(s) typed in by a person are not counted until a second "
                + "person confirms them)";
        List<AttemptFact> delivered = attempts.stream()
                .filter(a -> a.outcome() == Outcome.DELIVERED || a.outcome() == Outcome.ACKNOWLEDGED).toList();
        if (!delivered.isEmpty()) {
            Instant first = delivered.stream().map(AttemptFact::at).min(Instant::compareTo).orElseThrow();
            if (first.plus(p.noticeLead()).isAfter(now)) {
                reasons.add(new Reason(Code.NOTICE_NOT_PROVEN, "the termination notice was delivered " + first
                        + "; the erase may follow from " + first.plus(p.noticeLead()) + unconfirmed));
            }
            return;
        }
        Set<String> channels = new HashSet<>();
        attempts.forEach(a -> channels.add(a.channel()));
        Instant firstAttempt = attempts.stream().map(AttemptFact::at).min(Instant::compareTo).orElse(null);
        boolean escalated = attempts.size() >= p.escalationAttempts() && channels.size() >= p.escalationChannels()
                && firstAttempt != null && !firstAttempt.plus(p.escalationWait()).isAfter(now);
        if (!escalated) {
            reasons.add(new Reason(Code.NOTICE_NOT_PROVEN, "no delivery of a termination notice is proven, and the fallback "
                    + "needs " + p.escalationAttempts() + " attempts on " + p.escalationChannels() + " channels over "
                    + p.escalationWait().toDays() + " days (so far " + attempts.size() + " on " + channels.size()
                    + (firstAttempt == null ? "" : ", first " + firstAttempt) + ")" + unconfirmed));
        }
    }

    /** Two people: an approver who is not the requester; a bulk action beyond the limits needs two. */
    private static void approvals(Facts f, Policy p, List<Reason> reasons) {
        String requester = f.request().requester();
        Set<String> approvers = new TreeSet<>();
        boolean selfApproved = false;
        for (ApprovalFact a : f.approvals()) {
            if (!a.roles().contains(APPROVER_ROLE)) {
                continue;
            }
            if (a.approver().equals(requester)) {
                selfApproved = true;
            } else {
                approvers.add(a.approver());
            }
        }
        if (approvers.isEmpty()) {
            reasons.add(selfApproved ? new Reason(Code.SELF_APPROVAL, requester + " cannot approve their own request")
                    : new Reason(Code.APPROVAL_MISSING, "an approver other than " + requester + " must approve"));
        }
        var b = f.bulk();
        boolean overMachines = b.machinesInWindow() > p.bulkMachines();
        // The share rule is about bulk: one machine alone (even a tenant's only one) is not a bulk action.
        boolean overShare = b.tenantMachinesInWindow() > 1 && b.tenantFleetSize() > 0
                && b.tenantMachinesInWindow() > p.bulkTenantShare() * b.tenantFleetSize();
        if ((overMachines || overShare) && approvers.size() < 2) {
            reasons.add(new Reason(Code.BULK_SECOND_APPROVAL, "this erase is part of " + b.machinesInWindow() + " machines ("
                    + b.tenantMachinesInWindow() + " of the tenant's " + b.tenantFleetSize() + ") within "
                    + p.bulkWindow().toHours() + " h, beyond " + p.bulkMachines() + " machines or "
                    + Math.round(p.bulkTenantShare() * 100) + " % of a tenant's fleet: a second approver is needed"));
        }
    }
}
