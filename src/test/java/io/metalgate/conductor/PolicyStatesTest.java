package io.metalgate.conductor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.gate.Policy;
import org.junit.jupiter.api.Test;

/** The gate's start states are the lifecycle table's (one source of truth); the defaults tests use say the same. */
class PolicyStatesTest {

    @Test
    void theGatesStartStatesComeFromTheLifecycleTable() {
        assertEquals(Policy.defaults().fromStates(), GateFacts.FROM_STATES);
    }
}
