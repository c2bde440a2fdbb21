package io.metalgate.security;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The roles of metalgate. Every role may read ({@link #VIEWER}); {@link #ADMIN} holds all. The
 * implication is applied once, when an identity is built ({@link ImpliedRolesAugmentor}), so each
 * endpoint names only the least role it needs.
 */
public final class Roles {

    /** Reads fleet, leases, audit. */
    public static final String VIEWER = "viewer";
    /** Runs the fleet: enrolls machines, manages tenants and leases, requests actions. */
    public static final String OPERATOR = "operator";
    /** Approves actions requested by someone else. */
    public static final String APPROVER = "approver";
    /**
     * The system of record for contracts (a billing or ticketing system's token, or its people): only it
     * suspends or terminates a lease, the facts that let the gate power a tenant's servers off. Operators
     * run the fleet but cannot end a contract; an operator cannot grant this role to a token.
     */
    public static final String BILLING = "billing";
    /** Places and releases holds; exports evidence. */
    public static final String LEGAL = "legal";
    /** Users, tokens, configuration; holds every other role. */
    public static final String ADMIN = "admin";

    public static final List<String> ALL = List.of(VIEWER, OPERATOR, APPROVER, BILLING, LEGAL, ADMIN);

    private Roles() {
    }

    /** The roles a holder of {@code granted} effectively has. */
    public static Set<String> effective(Set<String> granted) {
        Set<String> out = new LinkedHashSet<>(granted);
        if (granted.contains(ADMIN)) {
            out.addAll(ALL);
        }
        if (!out.isEmpty()) {
            out.add(VIEWER);
        }
        return out;
    }
}
