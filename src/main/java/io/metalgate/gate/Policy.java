package io.metalgate.gate;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The gate's numbers (domain.md "The gate"); every value comes from configuration
 * ({@code metalgate.gate.*}), {@link #defaults()} are the domain's defaults.
 *
 * @param retention            time from lease termination before an erase may happen
 * @param noticeLead           time since the termination notice was delivered or acknowledged
 * @param escalationAttempts   attempts needed when no delivery can be proven
 * @param escalationChannels   distinct channels those attempts must use
 * @param escalationWait       time since the first attempt when no delivery can be proven
 * @param bulkMachines         more machines than this in the window needs a second approver
 * @param bulkTenantShare      more than this share of one tenant's fleet in the window needs one too
 * @param bulkWindow           the window bulk limits count over
 * @param fromStates           per action, the lifecycle states the machine lifecycle table lets it start from
 *                             (the conductor derives them from machine.MachineLifecycle; an action missing
 *                             from the map may start from any state)
 */
public record Policy(Duration retention, Duration noticeLead, int escalationAttempts, int escalationChannels,
        Duration escalationWait, int bulkMachines, double bulkTenantShare, Duration bulkWindow, Map<Action, Set<Facts.MachineState>> fromStates) {

    public Policy {
        fromStates = Map.copyOf(fromStates);
    }

    /** The domain's numbers, with the states of the lifecycle table as it stands (tests keep the two equal). */
    public static Policy defaults() {
        return new Policy(Duration.ofDays(30), Duration.ofDays(14), 3, 2, Duration.ofDays(30), 10, 0.25, Duration.ofHours(24),
                Map.of(Action.ERASE, Set.of(Facts.MachineState.RETAINED, Facts.MachineState.ERASE_FAILED, Facts.MachineState.AVAILABLE,
                        Facts.MachineState.MANAGEABLE), Action.REASSIGN, Set.of(Facts.MachineState.ERASED)));
    }
}
