package io.metalgate.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.common.Transitions;
import io.metalgate.lease.LeaseLifecycle;
import io.metalgate.lease.LeaseState;
import io.metalgate.machine.MachineLifecycle.Event;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MachineLifecycleTest {

    @Test
    void theHappyPathOfAMachineRunsThroughTheTable() {
        LifecycleState s = LifecycleState.ENROLLED;
        for (Event e : new Event[] { Event.VERIFY, Event.VERIFIED, Event.INSPECT, Event.INSPECTED, Event.DEPLOY, Event.DEPLOYED,
                Event.SUSPEND, Event.REINSTATE, Event.RETAIN, Event.ERASE, Event.ERASED, Event.REASSIGN }) {
            LifecycleState from = s;
            s = MachineLifecycle.TABLE.find(s, e).orElseThrow(() -> new AssertionError(e + " not allowed in " + from)).to();
        }
        assertEquals(LifecycleState.AVAILABLE, s);
    }

    @Test
    void dangerousStepsNameTheirGate() {
        assertEquals(MachineLifecycle.GATE_ERASE, MachineLifecycle.TABLE.find(LifecycleState.RETAINED, Event.ERASE).orElseThrow().guard());
        assertEquals(MachineLifecycle.GATE_REASSIGN, MachineLifecycle.TABLE.find(LifecycleState.ERASED, Event.REASSIGN).orElseThrow().guard());
        assertEquals(MachineLifecycle.GATE_ERASE, MachineLifecycle.TABLE.find(LifecycleState.ERASE_FAILED, Event.RETRY).orElseThrow().guard());
        // every way into ERASING is guarded by the erase gate
        MachineLifecycle.TABLE.rows().stream().filter(r -> r.to() == LifecycleState.ERASING)
                .forEach(r -> assertEquals(MachineLifecycle.GATE_ERASE, r.guard(), r.toString()));
        // nothing erases an ACTIVE machine directly
        assertTrue(MachineLifecycle.TABLE.find(LifecycleState.ACTIVE, Event.ERASE).isEmpty());
    }

    @Test
    void allowedEventsAnswerAConflict() {
        assertEquals(EnumSet.of(Event.ERASE), MachineLifecycle.TABLE.allowedEvents(LifecycleState.RETAINED));
        assertEquals(Set.of(), MachineLifecycle.TABLE.allowedEvents(LifecycleState.RETIRED));
        assertTrue(MachineLifecycle.TABLE.mermaid().contains("RETAINED --> ERASING : ERASE [gate: ERASE]"));
    }

    @Test
    void everyStateIsReachableFromEnrolled() {
        Set<LifecycleState> seen = EnumSet.of(LifecycleState.ENROLLED);
        boolean grew = true;
        while (grew) {
            grew = false;
            for (var r : MachineLifecycle.TABLE.rows()) {
                if (seen.contains(r.from()) && seen.add(r.to())) {
                    grew = true;
                }
            }
        }
        assertEquals(EnumSet.allOf(LifecycleState.class), seen);
    }

    @Test
    void leaseTableFollowsTheDomain() {
        var t = LeaseLifecycle.TABLE;
        assertEquals(LeaseState.ACTIVE, t.find(LeaseState.OVERDUE, LeaseLifecycle.Event.PAYMENT_RECEIVED).orElseThrow().to());
        assertEquals(LeaseState.ACTIVE, t.find(LeaseState.SUSPENDED, LeaseLifecycle.Event.PAYMENT_RECEIVED).orElseThrow().to());
        assertTrue(t.find(LeaseState.CLOSED, LeaseLifecycle.Event.ACTIVATED).isEmpty());
        assertTrue(t.find(LeaseState.TERMINATED, LeaseLifecycle.Event.PAYMENT_RECEIVED).isEmpty(), "no way back from TERMINATED");
        assertEquals(EnumSet.of(LeaseLifecycle.Event.CLOSED), t.allowedEvents(LeaseState.TERMINATED));
    }

    @Test
    void aTableRefusesTwoRowsForOneStateAndEvent() {
        assertThrows(IllegalArgumentException.class, () -> Transitions.<LeaseState, LeaseLifecycle.Event, Void>builder(LeaseLifecycle.Event.class)
                .on(LeaseState.PENDING, LeaseLifecycle.Event.ACTIVATED, LeaseState.ACTIVE, "")
                .on(LeaseState.PENDING, LeaseLifecycle.Event.ACTIVATED, LeaseState.CLOSED, ""));
    }

    @Test
    void guardsArePredicatesTheTableEvaluates() {
        var close = LeaseLifecycle.TABLE.find(LeaseState.TERMINATED, LeaseLifecycle.Event.CLOSED).orElseThrow();
        assertTrue(close.allows(new LeaseLifecycle.Context(0)));
        assertTrue(!close.allows(new LeaseLifecycle.Context(1)), "a lease whose machines still hold its data does not close");
        var erase = MachineLifecycle.TABLE.find(LifecycleState.RETAINED, Event.ERASE).orElseThrow();
        assertTrue(!erase.allows(MachineLifecycle.Context.NONE), "no erase without the gate's allowance");
        assertTrue(!erase.allows(MachineLifecycle.Context.allowed("POWER_OFF")), "another action's allowance is not an erase's");
        assertTrue(erase.allows(MachineLifecycle.Context.allowed("ERASE")));
        assertTrue(MachineLifecycle.TABLE.find(LifecycleState.ENROLLED, Event.VERIFY).orElseThrow().allows(MachineLifecycle.Context.NONE));
        // every row whose guard names a gate action holds only with that action allowed
        for (var r : MachineLifecycle.TABLE.rows()) {
            if (r.guard().startsWith("gate: ")) {
                String action = r.guard().substring("gate: ".length());
                assertTrue(!r.allows(MachineLifecycle.Context.NONE) && r.allows(MachineLifecycle.Context.allowed(action)), r.toString());
            }
        }
    }
}
