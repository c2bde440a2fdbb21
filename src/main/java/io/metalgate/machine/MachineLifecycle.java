package io.metalgate.machine;

import static io.metalgate.machine.LifecycleState.ACTIVE;
import static io.metalgate.machine.LifecycleState.AVAILABLE;
import static io.metalgate.machine.LifecycleState.DEPLOYING;
import static io.metalgate.machine.LifecycleState.DEPLOY_FAILED;
import static io.metalgate.machine.LifecycleState.ENROLLED;
import static io.metalgate.machine.LifecycleState.ERASED;
import static io.metalgate.machine.LifecycleState.ERASE_FAILED;
import static io.metalgate.machine.LifecycleState.ERASING;
import static io.metalgate.machine.LifecycleState.INSPECTING;
import static io.metalgate.machine.LifecycleState.INSPECT_FAILED;
import static io.metalgate.machine.LifecycleState.MANAGEABLE;
import static io.metalgate.machine.LifecycleState.RETAINED;
import static io.metalgate.machine.LifecycleState.RETIRED;
import static io.metalgate.machine.LifecycleState.SUSPENDED;
import static io.metalgate.machine.LifecycleState.VERIFYING;
import static io.metalgate.machine.LifecycleState.VERIFY_FAILED;

import io.metalgate.common.Transitions;

/**
 * The machine lifecycle (domain.md "Machine lifecycle") as one table of (from, event, to, guard).
 * Guards name the gate action that must allow the step; the conductor asks the gate before it fires one.
 */
public final class MachineLifecycle {

    public enum Event {
        VERIFY, VERIFIED, VERIFY_FAILED, BMC_CHANGED,
        INSPECT, INSPECTED, INSPECT_FAILED,
        MAKE_AVAILABLE, DEPLOY, DEPLOYED, DEPLOY_FAILED,
        SUSPEND, REINSTATE, RETAIN,
        ERASE, ERASED, ERASE_FAILED,
        REASSIGN, RETIRE, RETRY
    }

    public static final String GATE_POWER_OFF = "gate: POWER_OFF";
    public static final String GATE_ERASE = "gate: ERASE";
    public static final String GATE_REASSIGN = "gate: REASSIGN";

    /**
     * What a guard sees when a row is fired: which gate actions the gate allowed for this machine in the
     * transaction that fires it (the conductor decides under the machine's lock, then fires).
     */
    public record Context(java.util.Set<String> gateAllowed) {

        public static final Context NONE = new Context(java.util.Set.of());

        public static Context allowed(String action) {
            return new Context(java.util.Set.of(action));
        }
    }

    private static Transitions.Guard<Context> gate(String name, String action) {
        return new Transitions.Guard<>(name, c -> c.gateAllowed().contains(action));
    }

    static final Transitions.Guard<Context> POWER_OFF_ALLOWED = gate(GATE_POWER_OFF, "POWER_OFF");
    static final Transitions.Guard<Context> ERASE_ALLOWED = gate(GATE_ERASE, "ERASE");
    static final Transitions.Guard<Context> REASSIGN_ALLOWED = gate(GATE_REASSIGN, "REASSIGN");

    public static final Transitions<LifecycleState, Event, Context> TABLE = Transitions.<LifecycleState, Event, Context>builder(Event.class)
            .on(ENROLLED, Event.VERIFY, VERIFYING, "API: verify BMC credentials")
            .on(VERIFYING, Event.VERIFIED, MANAGEABLE, "conductor: BMC answered")
            .on(VERIFYING, Event.VERIFY_FAILED, VERIFY_FAILED, "conductor: BMC did not answer")
            .on(MANAGEABLE, Event.INSPECT, INSPECTING, "API / conductor")
            .on(INSPECTING, Event.INSPECTED, AVAILABLE, "conductor: inventory stored")
            .on(INSPECTING, Event.INSPECT_FAILED, INSPECT_FAILED, "conductor")
            .on(MANAGEABLE, Event.MAKE_AVAILABLE, AVAILABLE, "API")
            .on(AVAILABLE, Event.DEPLOY, DEPLOYING, "API: lease starts")
            .on(DEPLOYING, Event.DEPLOYED, ACTIVE, "conductor: installer reported")
            .on(DEPLOYING, Event.DEPLOY_FAILED, DEPLOY_FAILED, "conductor")
            .on(ACTIVE, Event.SUSPEND, SUSPENDED, POWER_OFF_ALLOWED, "lease suspended")
            .on(SUSPENDED, Event.REINSTATE, ACTIVE, "lease reinstated")
            .onEach(Event.RETAIN, RETAINED, POWER_OFF_ALLOWED, "lease terminated", ACTIVE, SUSPENDED)
            .on(RETAINED, Event.ERASE, ERASING, ERASE_ALLOWED, "API / bulk plan; checked again when the agent asks")
            .onEach(Event.ERASE, ERASING, ERASE_ALLOWED, "API: a machine never leased since its last erase", AVAILABLE, MANAGEABLE)
            .on(ERASING, Event.ERASED, ERASED, "erase agent: verified, certificate issued")
            .on(ERASING, Event.ERASE_FAILED, ERASE_FAILED, "erase agent / conductor")
            .on(ERASED, Event.REASSIGN, AVAILABLE, REASSIGN_ALLOWED, "API")
            .on(VERIFY_FAILED, Event.RETRY, VERIFYING, "API (explicit retry)")
            .on(INSPECT_FAILED, Event.RETRY, INSPECTING, "API (explicit retry)")
            .on(DEPLOY_FAILED, Event.RETRY, DEPLOYING, "API (explicit retry)")
            .on(ERASE_FAILED, Event.RETRY, ERASING, ERASE_ALLOWED, "API (explicit retry)")
            // another BMC address, port, protocol or system: verified again before anything drives it (a machine holding a
            // tenant's data keeps its BMC; the API refuses the change there). Not from ERASED: ENROLLED leads back to the pool
            // and into a lease without REASSIGN, whose certificate and holds would never be checked
            .onEach(Event.BMC_CHANGED, ENROLLED, Transitions.Guard.none(), "API: its BMC changed, verified again", MANAGEABLE, AVAILABLE,
                    VERIFY_FAILED, INSPECT_FAILED)
            .onEach(Event.RETIRE, RETIRED, Transitions.Guard.none(), "API: leaves the pool for destruction", ENROLLED, MANAGEABLE, AVAILABLE, ERASED,
                    VERIFY_FAILED, INSPECT_FAILED)
            .build();

    private MachineLifecycle() {
    }
}
