package io.metalgate.conductor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.gate.Policy;
import org.junit.jupiter.api.Test;

/** The gate's start states are the lifecycle table's (one source of truth); the defaults tests use say the same. */
class PolicyStatesTest {

    /** The gate names states with enums of its own (it imports only java.*): the same names as the domain's. */
    @Test
    void theGatesStatesAreTheDomainsStates() {
        assertEquals(java.util.Arrays.stream(io.metalgate.machine.LifecycleState.values()).map(Enum::name).toList(),
                java.util.Arrays.stream(io.metalgate.gate.Facts.MachineState.values()).map(Enum::name).toList());
        assertEquals(java.util.Arrays.stream(io.metalgate.lease.LeaseState.values()).map(Enum::name).toList(),
                java.util.Arrays.stream(io.metalgate.gate.Facts.LeaseState.values()).map(Enum::name).toList());
    }

    @Test
    void theGatesStartStatesComeFromTheLifecycleTable() {
        assertEquals(Policy.defaults().fromStates(), GateFacts.FROM_STATES);
    }
}
