package io.metalgate.integration;

import io.metalgate.common.Problem;
import java.util.UUID;

/**
 * What the intake route did with one inbound message, in domain terms. Each channel's edge turns it into
 * its own answer (an HTTP status, a broker acknowledgment); the route never chooses a status code.
 *
 * @param eventId      the stored event (null when the message was not an event at all)
 * @param deadLetterId where the message is kept when it could not be processed (null otherwise)
 * @param status       the stored event's status after this message (RECEIVED, APPLIED, REJECTED, UNKNOWN_LEASE)
 * @param problem      why the message was refused or not acted on (null when it was applied or a repeat)
 */
public record IntakeResult(Outcome outcome, UUID eventId, UUID deadLetterId, String status, Problem problem) {

    /** The kinds of answer a sender can act on. */
    public enum Outcome {
        /** Stored and acted on (the lease moved). */
        APPLIED,
        /** The same event was received before (same content); it is applied if it was not yet. */
        DUPLICATE,
        /** Stored; the lease's state does not accept it (kept as REJECTED, with the allowed events). */
        REJECTED,
        /** Stored; no lease has its reference (kept, to be looked at). */
        UNKNOWN_LEASE,
        /** Not an event (malformed, invalid, unsigned): kept as a dead letter. */
        INVALID,
        /** Its (source, externalId) was used before for other content: kept as a dead letter. */
        CONFLICT,
        /** Something unexpected failed while processing it: kept as a dead letter, to be replayed. */
        FAILED
    }

    /** Whether the message became (or already was) a stored event, rather than a dead letter. */
    public boolean stored() {
        return eventId != null;
    }
}
