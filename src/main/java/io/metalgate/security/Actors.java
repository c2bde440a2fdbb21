package io.metalgate.security;

import io.quarkus.security.identity.SecurityIdentity;

/** Who is acting: the principal as audited, and the person behind it (for two-person rules). */
public final class Actors {

    private Actors() {
    }

    /** The user behind an identity: {@code alice} for both {@code alice} and her token {@code alice/billing}. */
    public static String person(SecurityIdentity identity) {
        return person(identity.getPrincipal().getName());
    }

    /** The user behind a principal's name as recorded ({@code alice/billing} → {@code alice}). */
    public static String person(String principal) {
        int slash = principal.indexOf('/');
        return slash < 0 ? principal : principal.substring(0, slash);
    }
}
