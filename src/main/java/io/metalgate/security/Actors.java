package io.metalgate.security;

import io.quarkus.security.identity.SecurityIdentity;

/** Who is acting: the principal as audited, and the person behind it (for two-person rules). */
public final class Actors {

    private Actors() {
    }

    /** The user behind an identity: {@code alice} for both {@code alice} and her token {@code alice/billing}. */
    public static String person(SecurityIdentity identity) {
        String name = identity.getPrincipal().getName();
        int slash = name.indexOf('/');
        return slash < 0 ? name : name.substring(0, slash);
    }
}
