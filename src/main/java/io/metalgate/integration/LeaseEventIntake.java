package io.metalgate.integration;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.LeaseLifecycle;
import io.metalgate.lease.LeaseService;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Persists inbound lease events before anything acts on them, idempotently, then acts on them (moves
 * the lease by its transition table); keeps what cannot be accepted as a dead letter.
 */
@ApplicationScoped
public class LeaseEventIntake {

    /** A stored event: its id and status, and whether it was stored before this message. */
    public record Stored(UUID eventId, String status, boolean duplicate) {
    }

    public static final String STATUS_RECEIVED = "RECEIVED";
    public static final String STATUS_APPLIED = "APPLIED";
    public static final String STATUS_REJECTED = "REJECTED";
    public static final String STATUS_UNKNOWN_LEASE = "UNKNOWN_LEASE";

    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    LeaseService leases;
    @Inject
    io.metalgate.lease.HoldService holds;

    /** The form an event is stored in, and compared by: RFC 8785 canonical JSON of its fields. */
    public String canonical(LeaseEvent event) {
        return audit.canonical(mapper.valueToTree(event));
    }

    /**
     * Stores a valid event once, before anything acts on it, and audits its arrival; a repeat (same
     * content) answers the stored one. The same (source, externalId) with other content is refused as a
     * {@link RejectedInput} CONFLICT, for the dead letters.
     */
    public Uni<Stored> accept(LeaseEvent event, String actor) {
        UUID id = UUID.randomUUID();
        String canonicalBody = canonical(event);
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s
                .createNativeQuery("SELECT id, body, status FROM inbound_event WHERE source = :s AND external_id = :e", Object[].class)
                .setParameter("s", event.source()).setParameter("e", event.externalId()).getResultList())
                .chain(existing -> {
                    if (!existing.isEmpty()) {
                        Object[] row = existing.get(0);
                        requireSameContent(event, canonicalBody, (String) row[1]);
                        return Uni.createFrom().item(new Stored((UUID) row[0], (String) row[2], true));
                    }
                    return targetKnown(event).chain(known -> {
                        String state = known ? STATUS_RECEIVED : STATUS_UNKNOWN_LEASE;
                        // ON CONFLICT: a second copy racing this one stores nothing; it is answered as a repeat below
                        return Panache.getSession().chain(s -> s.createNativeQuery(
                                "INSERT INTO inbound_event (id, source, external_id, event_type, lease_ref, tenant_ref, occurred_at, received_at, body, "
                                        + "status) VALUES (:id, :s, :e, :t, :l, :tr, CAST(:o AS timestamptz), :r, :b, :st) "
                                        + "ON CONFLICT ON CONSTRAINT inbound_event_source_external_key DO NOTHING")
                                .setParameter("id", id).setParameter("s", event.source()).setParameter("e", event.externalId())
                                .setParameter("t", event.typeName()).setParameter("l", blankToNull(event.leaseRef()))
                                .setParameter("tr", blankToNull(event.tenantRef()))
                                .setParameter("o", event.occurredAt() == null ? null : event.occurredAt().atOffset(ZoneOffset.UTC))
                                .setParameter("r", Instant.now().atOffset(ZoneOffset.UTC)).setParameter("b", canonicalBody)
                                .setParameter("st", state).executeUpdate())
                                .chain(inserted -> inserted == 0 ? Uni.createFrom().failure(new RaceLost())
                                        : audit.record(actor, "lease.event.received", event.refSubject(), payload(id, event, state))
                                                .call(() -> known || event.effectiveAction() != LeaseEvent.Action.HOLD ? Uni.createFrom().voidItem()
                                                        : unplaced(event, id, actor, "the event asks for a " + event.holdKind() + " hold"))
                                                // in the same commit as the event: a crash cannot keep the one without the other
                                                .call(() -> preservationHold(event, id, actor))
                                                .replaceWith(new Stored(id, state, false)));
                    });
                }))
                .onFailure(RaceLost.class).recoverWithUni(() -> accept(event, actor))
                .call(audit::sequenced);
    }

    /** Another copy of the event was stored between this one's look and its insert: look again. */
    private static final class RaceLost extends RuntimeException {
        RaceLost() {
            super("lost the race to store an event", null, false, false);
        }
    }

    private static void requireSameContent(LeaseEvent event, String canonicalBody, String stored) {
        if (!canonicalBody.equals(stored)) {
            throw new RejectedInput(IntakeResult.Outcome.CONFLICT, Problem.of(409, "conflict", "Conflict", "event " + event.source() + "/"
                    + event.externalId() + " was received before with different content")
                    .withErrors(List.of(new Problem.FieldError("externalId", "already used for another event"))));
        }
    }

    /**
     * A repeat of a stored event (the idempotent repository knew its key): refused when its content
     * differs, acted on when the first copy was stored but never applied (a crash, a failure), otherwise
     * answered with what happened to the first copy.
     */
    public Uni<IntakeResult> repeat(LeaseEvent event, String actor) {
        String canonicalBody = canonical(event);
        return Panache.withSession(() -> Panache.getSession().chain(s -> s
                .createNativeQuery("SELECT id, body, status FROM inbound_event WHERE source = :s AND external_id = :e", Object[].class)
                .setParameter("s", event.source()).setParameter("e", event.externalId()).getResultList()))
                .chain(rows -> {
                    Object[] row = rows.get(0);
                    requireSameContent(event, canonicalBody, (String) row[1]);
                    UUID id = (UUID) row[0];
                    if (STATUS_RECEIVED.equals(row[2])) {
                        return apply(id, event, actor).map(r -> new IntakeResult(IntakeResult.Outcome.DUPLICATE, id, null, r.status(), r.problem()));
                    }
                    if (STATUS_UNKNOWN_LEASE.equals(row[2])) {
                        // sent before its lease (or tenant) existed, and sent again: acted on now if it exists
                        return reopenIfKnown(id, event, actor).chain(reopened -> reopened
                                ? apply(id, event, actor).map(r -> new IntakeResult(IntakeResult.Outcome.DUPLICATE, id, null, r.status(), r.problem()))
                                : Uni.createFrom().item(new IntakeResult(IntakeResult.Outcome.DUPLICATE, id, null, STATUS_UNKNOWN_LEASE, null)));
                    }
                    return Uni.createFrom().item(new IntakeResult(IntakeResult.Outcome.DUPLICATE, id, null, (String) row[2], null));
                });
    }

    /**
     * An event stored as UNKNOWN_LEASE whose lease (or tenant) now exists goes back to RECEIVED, audited
     * ({@code lease.event.target-found}), so that it is applied like any stored event (now, or by the recovery sweep
     * after a crash). True when this call reopened it. Without this, the resend a sender makes after creating the
     * lease would be answered "duplicate" and the event never applied.
     */
    Uni<Boolean> reopenIfKnown(UUID eventId, LeaseEvent event, String actor) {
        return Panache.withTransaction(() -> target(event).chain(t -> t == null ? Uni.createFrom().item(false)
                : Panache.getSession().chain(s -> s.createNativeQuery("UPDATE inbound_event SET status = :received WHERE id = :id AND status = :unknown")
                        .setParameter("received", STATUS_RECEIVED).setParameter("id", eventId).setParameter("unknown", STATUS_UNKNOWN_LEASE)
                        .executeUpdate())
                        .chain(n -> n == 0 ? Uni.createFrom().item(false)
                                : audit.record(actor, "lease.event.target-found", event.refSubject(), Map.of("eventId", eventId.toString(),
                                        "source", event.source(), "externalId", event.externalId())).replaceWith(true))))
                .call(audit::sequenced);
    }

    /**
     * Fail safe (domain.md "Holds"): an event whose details look like a preservation request places a
     * PRESERVATION_REQUEST hold on the lease's tenant at once, before the event is acted on, for a human to
     * review. An event for an unknown lease cannot name a tenant: that is audited for review instead. Runs in the
     * transaction that stores the event.
     */
    private Uni<Void> preservationHold(LeaseEvent event, UUID eventId, String actor) {
        if (event.effectiveAction() == LeaseEvent.Action.HOLD) {
            return Uni.createFrom().voidItem(); // the hold it asks for is placed when it is applied, once
        }
        var matched = preservationWords(event);
        if (matched.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        String reason = "inbound " + (event.effectiveAction() == LeaseEvent.Action.NOTE ? "ticket note " : "lease event ") + event.source() + "/"
                + event.externalId() + " (" + eventId + ") looks like a preservation request (" + matched.get()
                + "); placed automatically, to be reviewed by a person";
        return target(event)
                .chain(t -> t == null
                        ? audit.record(actor, "hold.preservation-unplaced", event.refSubject(), Map.of("eventId", eventId.toString(),
                                "reason", reason + "; the " + (blankToNull(event.leaseRef()) != null ? "lease" : "tenant")
                                        + " is unknown, so no tenant could be held"))
                        : holds.place(new io.metalgate.lease.HoldService.HoldRequest(io.metalgate.lease.Hold.Kind.PRESERVATION_REQUEST,
                                t.tenantId(), null, null, reason), actor).replaceWithVoid());
    }

    /** What in an event's details or text reads like a preservation request (the classifier's words), if anything. */
    static java.util.Optional<String> preservationWords(LeaseEvent event) {
        return PreservationClassifier.match(event.details())
                .or(() -> event.text() == null ? java.util.Optional.empty() : PreservationClassifier.stem(event.text()).map(s -> "text: '" + s + "'"));
    }

    /** Whether {@link #accept} places a preservation hold for this event (a lease event whose words ask for one). */
    static boolean looksLikePreservation(LeaseEvent event) {
        return event.effectiveAction() != LeaseEvent.Action.HOLD && preservationWords(event).isPresent();
    }

    /** Who an event is about: the tenant (and the lease, when it names a known one). */
    public record Target(UUID tenantId, UUID leaseId) {
    }

    /**
     * The tenant (and lease) an event names: its lease by external reference; for a hold or a note whose
     * lease is unknown or not named, its tenant by external reference (fail safe: the tenant is held rather
     * than nobody). Null when neither is known. Runs in the caller's session.
     */
    Uni<Target> target(LeaseEvent event) {
        String leaseRef = blankToNull(event.leaseRef());
        String tenantRef = blankToNull(event.tenantRef());
        Uni<Target> byLease = leaseRef == null ? Uni.createFrom().nullItem()
                : io.metalgate.lease.Lease.<io.metalgate.lease.Lease>find("externalRef", leaseRef).firstResult()
                        .map(l -> l == null ? null : new Target(l.tenantId, l.id));
        return byLease.chain(t -> t != null || tenantRef == null || event.effectiveAction() == LeaseEvent.Action.LEASE_EVENT
                ? Uni.createFrom().item(t)
                : io.metalgate.lease.Tenant.<io.metalgate.lease.Tenant>find("externalRef", tenantRef).firstResult()
                        .map(tn -> tn == null ? null : new Target(tn.id, null)));
    }

    /** Whether the event's target exists: a lease event's lease; a hold's or a note's lease or tenant. */
    private Uni<Boolean> targetKnown(LeaseEvent event) {
        return target(event).map(t -> t != null);
    }

    /** Fail safe: a hold that cannot be placed (unknown lease and tenant) is audited for a person to review, in the caller's transaction. */
    private Uni<Void> unplaced(LeaseEvent event, UUID eventId, String actor, String why) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("eventId", eventId.toString());
        p.put("source", event.source());
        p.put("externalId", event.externalId());
        p.put("leaseRef", blankToNull(event.leaseRef()));
        p.put("tenantRef", blankToNull(event.tenantRef()));
        p.put("reason", why + " of " + event.refSubject() + ", which names no known lease or tenant; kept as " + eventId
                + ", for a person to review (hold it by hand, or fix the reference and replay)");
        return audit.record(actor, "hold.preservation-unplaced", event.refSubject(), p).replaceWithVoid();
    }

    /** The problem an event whose lease (or tenant) is unknown is answered with; the event is kept as {@code eventId}. */
    static Problem unknownTarget(LeaseEvent event, UUID eventId) {
        if (event.effectiveAction() == LeaseEvent.Action.LEASE_EVENT) {
            return Problem.of(422, "unknown-lease", "Unknown lease", "no lease with external reference \"" + event.leaseRef()
                    + "\"; the event is kept as " + eventId).withErrors(List.of(new Problem.FieldError("leaseRef", "no such lease")));
        }
        return Problem.of(422, "unknown-lease", "Unknown lease or tenant", "no lease \"" + event.leaseRef() + "\" and no tenant \""
                + event.tenantRef() + "\" is known; the " + event.effectiveAction().name().toLowerCase(java.util.Locale.ROOT) + " is kept as "
                + eventId + (event.effectiveAction() == LeaseEvent.Action.HOLD ? " and audited for a person to review" : ""))
                .withErrors(List.of(new Problem.FieldError(blankToNull(event.leaseRef()) != null ? "leaseRef" : "tenantRef", "no such lease or tenant")));
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /**
     * Acts on a stored RECEIVED event exactly once: claims its row and moves its lease by the transition
     * table in one transaction. An event the lease's state does not accept is kept as REJECTED, with the
     * problem that names the allowed events. One already applied (by a concurrent resend or the recovery
     * sweep) is answered as it stands.
     */
    public Uni<IntakeResult> apply(UUID eventId, LeaseEvent event, String actor) {
        if (event.effectiveAction() != LeaseEvent.Action.LEASE_EVENT) {
            return applyTicket(eventId, event, actor);
        }
        LeaseLifecycle.Event transition = LeaseLifecycle.Event.valueOf(event.type().name());
        String reason = "lease event " + event.source() + "/" + event.externalId();
        return leases.fireClaimed(event.leaseRef(), transition, reason, actor, () -> Panache.getSession().chain(s -> s
                .createNativeQuery("UPDATE inbound_event SET status = :applied WHERE id = :id AND status = :received")
                .setParameter("applied", STATUS_APPLIED).setParameter("id", eventId).setParameter("received", STATUS_RECEIVED)
                .executeUpdate()).map(n -> n == 1))
                .chain(view -> view != null ? Uni.createFrom().item(new IntakeResult(IntakeResult.Outcome.APPLIED, eventId, null, STATUS_APPLIED, null))
                        : statusOf(eventId).map(st -> new IntakeResult(IntakeResult.Outcome.DUPLICATE, eventId, null, st, null)))
                .onFailure(ApiException.class).recoverWithUni(e -> rejected(eventId).replaceWith(
                        new IntakeResult(IntakeResult.Outcome.REJECTED, eventId, null, STATUS_REJECTED, ((ApiException) e).problem())));
    }

    /**
     * Acts on a stored RECEIVED hold or note exactly once: claims its row, then in the same transaction places the
     * hold (on the tenant: fail safe, whatever lease it names; the hold's id kept on the event) or records the note
     * (an audited {@code integration.ticket-note} on the tenant, with the SHA-256 of its text; the text itself is the
     * stored event). A resend, the recovery sweep or a racing copy finds the row claimed and places nothing.
     */
    private Uni<IntakeResult> applyTicket(UUID eventId, LeaseEvent event, String actor) {
        return Panache.withTransaction(() -> claim(eventId).chain(claimed -> {
            if (!claimed) {
                return Uni.createFrom().<IntakeResult> nullItem();
            }
            return target(event).chain(t -> {
                if (t == null) {
                    return Panache.getSession().chain(s -> s.createNativeQuery("UPDATE inbound_event SET status = :st WHERE id = :id")
                            .setParameter("st", STATUS_UNKNOWN_LEASE).setParameter("id", eventId).executeUpdate())
                            .call(() -> event.effectiveAction() == LeaseEvent.Action.HOLD
                                    ? unplaced(event, eventId, actor, "the event asks for a " + event.holdKind() + " hold")
                                    : Uni.createFrom().voidItem())
                            .replaceWith(new IntakeResult(IntakeResult.Outcome.UNKNOWN_LEASE, eventId, null, STATUS_UNKNOWN_LEASE,
                                    unknownTarget(event, eventId)));
                }
                if (event.effectiveAction() == LeaseEvent.Action.HOLD) {
                    String reason = "asked for by " + event.source() + " event " + event.externalId()
                            + (event.ticketRef() == null ? "" : " (ticket " + event.ticketRef() + ")")
                            + (blankToNull(event.leaseRef()) == null ? "" : " about lease " + event.leaseRef())
                            + (event.text() == null ? "" : ": " + abbreviate(event.text(), 500))
                            + "; placed automatically, to be reviewed by a person";
                    return holds.place(new io.metalgate.lease.HoldService.HoldRequest(event.holdKind(), t.tenantId(), null, null, reason), actor)
                            .call(h -> Panache.getSession().chain(s -> s.createNativeQuery("UPDATE inbound_event SET hold_id = :h WHERE id = :id")
                                    .setParameter("h", h.id()).setParameter("id", eventId).executeUpdate()))
                            .replaceWith(new IntakeResult(IntakeResult.Outcome.APPLIED, eventId, null, STATUS_APPLIED, null));
                }
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("eventId", eventId.toString());
                p.put("source", event.source());
                p.put("externalId", event.externalId());
                p.put("ticketRef", event.ticketRef());
                p.put("leaseId", t.leaseId() == null ? null : t.leaseId().toString());
                p.put("leaseRef", blankToNull(event.leaseRef()));
                p.put("textSha256", AuditHashes.sha256Hex(event.text()));
                p.put("textLength", event.text().length());
                return audit.record(actor, "integration.ticket-note", "tenant:" + t.tenantId(), p)
                        .replaceWith(new IntakeResult(IntakeResult.Outcome.APPLIED, eventId, null, STATUS_APPLIED, null));
            });
        })).call(audit::sequenced)
                .chain(r -> r != null ? Uni.createFrom().item(r)
                        : statusOf(eventId).map(st -> new IntakeResult(IntakeResult.Outcome.DUPLICATE, eventId, null, st, null)));
    }

    /** Claims a RECEIVED event's row for acting on it (in the caller's transaction): true for the one caller that moved it. */
    private static Uni<Boolean> claim(UUID eventId) {
        return Panache.getSession().chain(s -> s
                .createNativeQuery("UPDATE inbound_event SET status = :applied WHERE id = :id AND status = :received")
                .setParameter("applied", STATUS_APPLIED).setParameter("id", eventId).setParameter("received", STATUS_RECEIVED)
                .executeUpdate()).map(n -> n == 1);
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…";
    }

    private Uni<Void> rejected(UUID eventId) {
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s
                .createNativeQuery("UPDATE inbound_event SET status = :st WHERE id = :id AND status = :received")
                .setParameter("st", STATUS_REJECTED).setParameter("id", eventId).setParameter("received", STATUS_RECEIVED)
                .executeUpdate())).replaceWithVoid();
    }

    private Uni<String> statusOf(UUID eventId) {
        return Panache.withSession(() -> Panache.getSession().chain(s -> s
                .createNativeQuery("SELECT status FROM inbound_event WHERE id = :id", String.class).setParameter("id", eventId).getSingleResult()));
    }

    /** Keeps a message that could not be accepted, whole, with the reason; audits that it arrived. */
    public Uni<UUID> deadLetter(String channel, String body, String reason, String actor) {
        return deadLetter(channel, body, reason, actor, null);
    }

    /**
     * {@link #deadLetter(String, String, String, String)}; when {@code replayOf} names a dead letter being
     * replayed, that one records the failed replay (count, reason) instead of a second copy being kept.
     */
    public Uni<UUID> deadLetter(String channel, String body, String reason, String actor, UUID replayOf) {
        UUID id = replayOf != null ? replayOf : UUID.randomUUID();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("deadLetterId", id.toString());
        payload.put("channel", channel);
        payload.put("reason", reason);
        payload.put("bodySha256", AuditHashes.sha256Hex(body));
        Instant now = Instant.now();
        if (replayOf != null) {
            return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                    "UPDATE dead_letter SET replays = replays + 1, replayed_at = :r, replayed_by = :by, replay_reason = :reason WHERE id = :id")
                    .setParameter("id", id).setParameter("r", now.atOffset(ZoneOffset.UTC)).setParameter("by", actor)
                    .setParameter("reason", reason).executeUpdate())
                    .chain(() -> audit.record(actor, "integration.dead-letter-replay-failed", "dead-letter:" + id, payload)))
                    .call(audit::sequenced).replaceWith(id);
        }
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                "INSERT INTO dead_letter (id, channel, received_at, reason, body) VALUES (:id, :c, :r, :reason, :b)")
                .setParameter("id", id).setParameter("c", channel).setParameter("r", now.atOffset(ZoneOffset.UTC))
                .setParameter("reason", reason).setParameter("b", storable(body)).executeUpdate())
                .chain(() -> audit.record(actor, "integration.dead-lettered", "dead-letter:" + id, payload)))
                .call(audit::sequenced).replaceWith(id);
    }

    /** The body as PostgreSQL can keep it as text: a NUL (refused by PostgreSQL) becomes U+FFFD; bodySha256 is of the body as received. */
    static String storable(String body) {
        return body.indexOf('\u0000') < 0 ? body : body.replace('\u0000', '\uFFFD');
    }

    static Map<String, Object> payload(UUID id, LeaseEvent e, String state) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("eventId", id.toString());
        p.put("source", e.source());
        p.put("externalId", e.externalId());
        p.put("type", e.typeName());
        p.put("leaseRef", e.leaseRef());
        if (e.action() != null) {
            p.put("action", e.action().name());
            p.put("tenantRef", e.tenantRef());
            p.put("ticketRef", e.ticketRef());
        }
        p.put("occurredAt", e.occurredAt() == null ? null : e.occurredAt().toString());
        p.put("status", state);
        return p;
    }
}
