package io.metalgate.lease;

/**
 * What the contract says (domain.md "Lease"). PENDING → ACTIVE → OVERDUE → SUSPENDED → TERMINATED →
 * CLOSED; OVERDUE / SUSPENDED → ACTIVE on payment. The transition table comes with the lease-gated
 * lifecycle; a lease is created PENDING.
 */
public enum LeaseState {
    PENDING, ACTIVE, OVERDUE, SUSPENDED, TERMINATED, CLOSED
}
