package io.metalgate.gate;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the gate may look at, gathered before it is asked (it does no I/O). Built by the caller
 * from the database; recorded with every decision, so that the decision can be replayed and explained.
 */
public record Facts(MachineFacts machine, Optional<LeaseFacts> lease, List<HoldFact> holds, List<NoticeFact> notices,
        RequestFacts request, List<ApprovalFact> approvals, BulkFacts bulk) {

    public Facts {
        holds = List.copyOf(holds);
        notices = List.copyOf(notices);
        approvals = List.copyOf(approvals);
    }

    /**
     * A machine's lifecycle state as the gate sees it: the same names as machine.LifecycleState (the gate
     * depends on nothing but java.*; GateStatesTest keeps the two lists equal).
     */
    public enum MachineState {
        ENROLLED, VERIFYING, MANAGEABLE, INSPECTING, AVAILABLE, DEPLOYING, ACTIVE, SUSPENDED, RETAINED, ERASING, ERASED, RETIRED,
        VERIFY_FAILED, INSPECT_FAILED, DEPLOY_FAILED, ERASE_FAILED
    }

    /** A lease's state as the gate sees it: the same names as lease.LeaseState. */
    public enum LeaseState {
        PENDING, ACTIVE, OVERDUE, SUSPENDED, TERMINATED, CLOSED
    }

    /**
     * @param state                  lifecycle state
     * @param leasedSinceLastErase   false for a machine never leased since it was last erased
     * @param diskSerials            serial numbers of every disk in the inventory
     * @param certificate            the latest erase certificate, if any
     */
    public record MachineFacts(String id, MachineState state, boolean leasedSinceLastErase, Set<String> diskSerials,
            Optional<CertificateFact> certificate) {
    }

    /** An erase certificate: which disks it covers and whether its signature checked out. */
    public record CertificateFact(Set<String> diskSerials, boolean valid) {
    }

    /** @param terminatedAt when the lease entered TERMINATED, if it did */
    public record LeaseFacts(String id, String tenantId, LeaseState state, Optional<Instant> terminatedAt) {
    }

    /** A hold that covers this machine (by tenant, lease or machine set), placed and not released. */
    public record HoldFact(String id, String kind, Instant placedAt) {
    }

    /** A notice to the tenant with its attempts. */
    public record NoticeFact(String id, String kind, List<AttemptFact> attempts) {

        public NoticeFact {
            attempts = List.copyOf(attempts);
        }
    }

    /** One attempt to deliver a notice on one channel, and what came of it. */
    /**
     * @param proven whether it proves anything: made or received by the appliance itself, or typed in by a person and
     *               confirmed by a second (a person's word alone is a claim, shown but not counted)
     */
    public record AttemptFact(String channel, Instant at, Outcome outcome, boolean proven) {

        public AttemptFact(String channel, Instant at, Outcome outcome) {
            this(channel, at, outcome, true);
        }
    }

    public enum Outcome {
        SENT, DELIVERED, BOUNCED, ACKNOWLEDGED
    }

    /**
     * Who asks, and on what grounds.
     *
     * @param tenantRequest    the tenant's recorded request for this (power-off), with its proof
     * @param emergencyReason  an approver's emergency override, with its reason (power-off)
     */
    public record RequestFacts(String requester, Optional<TenantRequestFact> tenantRequest, Optional<String> emergencyReason,
            Optional<String> emergencyApprover) {
    }

    /**
     * A tenant's request as recorded: through which channel, the proof (ticket id, message id, signed
     * link), who recorded it and who, a different person, confirmed it. Unused and unexpired, for this
     * machine and its data's tenant (the caller only passes such a request).
     */
    public record TenantRequestFact(String id, String channel, String proof, String recordedBy, Optional<String> confirmedBy) {
    }

    /** An approval of this request by someone, with the roles they held when approving. */
    public record ApprovalFact(String approver, Set<String> roles, Instant at) {
    }

    /**
     * The batch this action belongs to, for blast-radius limits.
     *
     * @param machinesInWindow        machines of the action in the window, this batch included
     * @param tenantMachinesInWindow  of them, machines of this machine's tenant
     * @param tenantFleetSize         all machines of this machine's tenant
     */
    public record BulkFacts(int machinesInWindow, int tenantMachinesInWindow, int tenantFleetSize) {

        public static BulkFacts single() {
            return new BulkFacts(1, 1, 1);
        }
    }
}
