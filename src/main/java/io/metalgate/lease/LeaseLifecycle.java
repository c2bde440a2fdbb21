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

    /**
     * Contract facts only billing states: a suspension or termination (the power-off gate trusts them), the payment
     * that lifts a suspension (an operator must not undo billing's decision either), and the start of the service (an
     * activated lease deploys its machines, which from then on hold the tenant's data and count in its fleet: an
     * operator who could activate leases alone could pad a tenant's fleet under the blast-radius share).
     */
    public static final java.util.Set<Event> BILLING_ONLY = java.util.EnumSet.of(Event.ACTIVATED, Event.SUSPENDED, Event.TERMINATED,
            Event.PAYMENT_RECEIVED);

    /** What a guard sees: how many machines still hold this lease's data (not yet erased). */
    public record Context(long machinesHoldingData) {
    }

    static final Transitions.Guard<Context> NO_DATA_LEFT = new Transitions.Guard<>("every machine erased or released",
            c -> c.machinesHoldingData() == 0);

    public static final Transitions<LeaseState, Event, Context> TABLE = Transitions.<LeaseState, Event, Context>builder(Event.class)
            .on(PENDING, Event.ACTIVATED, ACTIVE, "lease event / API")
            .on(ACTIVE, Event.PAYMENT_OVERDUE, OVERDUE, "lease event from billing")
            .on(OVERDUE, Event.SUSPENDED, SUSPENDED, "lease event from billing")
            .onEach(Event.PAYMENT_RECEIVED, ACTIVE, Transitions.Guard.none(), "lease event from billing (reinstated)", OVERDUE, SUSPENDED)
            .onEach(Event.TERMINATED, TERMINATED, Transitions.Guard.none(), "lease event from billing / API", ACTIVE, OVERDUE, SUSPENDED)
            .on(TERMINATED, Event.CLOSED, CLOSED, NO_DATA_LEFT, "lease event / API")
            .build();

    private LeaseLifecycle() {
    }
}
