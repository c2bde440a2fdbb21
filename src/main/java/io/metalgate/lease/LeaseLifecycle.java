package io.metalgate.lease;

import static io.metalgate.lease.LeaseState.ACTIVE;
import static io.metalgate.lease.LeaseState.CLOSED;
import static io.metalgate.lease.LeaseState.OVERDUE;
import static io.metalgate.lease.LeaseState.PENDING;
import static io.metalgate.lease.LeaseState.SUSPENDED;
import static io.metalgate.lease.LeaseState.TERMINATED;

import io.metalgate.common.Transitions;

/**
 * The lease state machine (domain.md "Lease") as one table. Events come from billing / ticketing (the
 * lease-event intake route) or the API.
 */
public final class LeaseLifecycle {

    /** What billing says happened (the same names as integration.LeaseEvent.Type). */
    public enum Event {
        ACTIVATED, PAYMENT_OVERDUE, PAYMENT_RECEIVED, SUSPENDED, TERMINATED, CLOSED
    }

    public static final Transitions<LeaseState, Event> TABLE = Transitions.<LeaseState, Event>builder(Event.class)
            .on(PENDING, Event.ACTIVATED, ACTIVE, "", "lease event / API")
            .on(ACTIVE, Event.PAYMENT_OVERDUE, OVERDUE, "", "lease event from billing")
            .on(OVERDUE, Event.SUSPENDED, SUSPENDED, "", "lease event from billing")
            .onEach(Event.PAYMENT_RECEIVED, ACTIVE, "", "lease event from billing (reinstated)", OVERDUE, SUSPENDED)
            .onEach(Event.TERMINATED, TERMINATED, "", "lease event from billing / API", ACTIVE, OVERDUE, SUSPENDED)
            .on(TERMINATED, Event.CLOSED, CLOSED, "every machine erased or released", "lease event / API")
            .build();

    private LeaseLifecycle() {
    }
}
