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
    /** Places and releases holds; exports evidence. */
    public static final String LEGAL = "legal";
    /** Users, tokens, configuration; holds every other role. */
    public static final String ADMIN = "admin";

    public static final List<String> ALL = List.of(VIEWER, OPERATOR, APPROVER, LEGAL, ADMIN);

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
