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

    /** What the intake did with a message. */
    public record Outcome(int status, UUID eventId, String state, boolean duplicate) {
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

    /** Stores a valid event once; a repeat answers the first one's id. */
    public Uni<Outcome> accept(LeaseEvent event, String body, String actor) {
        UUID id = UUID.randomUUID();
        String canonicalBody = audit.canonical(mapper.valueToTree(event));
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s
                .createNativeQuery("SELECT id, body, status FROM inbound_event WHERE source = :s AND external_id = :e", Object[].class)
                .setParameter("s", event.source()).setParameter("e", event.externalId()).getResultList())
                .chain(existing -> {
                    if (!existing.isEmpty()) {
                        Object[] row = existing.get(0);
                        if (!canonicalBody.equals(row[1])) {
                            throw new ApiException(Problem.of(409, "conflict", "Conflict", "event " + event.source() + "/"
                                    + event.externalId() + " was received before with different content")
                                    .withErrors(List.of(new Problem.FieldError("externalId", "already used for another event"))));
                        }
                        return Uni.createFrom().item(new Outcome(200, (UUID) row[0], (String) row[2], true));
                    }
                    return leaseExists(event.leaseRef()).chain(known -> {
                        String state = known ? STATUS_RECEIVED : STATUS_UNKNOWN_LEASE;
                        return Panache.getSession().chain(s -> s.createNativeQuery(
                                "INSERT INTO inbound_event (id, source, external_id, event_type, lease_ref, occurred_at, received_at, body, status) "
                                        + "VALUES (:id, :s, :e, :t, :l, CAST(:o AS timestamptz), :r, :b, :st)")
                                .setParameter("id", id).setParameter("s", event.source()).setParameter("e", event.externalId())
                                .setParameter("t", event.type().name()).setParameter("l", event.leaseRef())
                                .setParameter("o", event.occurredAt() == null ? null : event.occurredAt().atOffset(ZoneOffset.UTC))
                                .setParameter("r", Instant.now().atOffset(ZoneOffset.UTC)).setParameter("b", canonicalBody)
                                .setParameter("st", state).executeUpdate())
                                .chain(() -> audit.record(actor, "lease.event.received", "lease-ref:" + event.leaseRef(),
                                        payload(id, event, state)))
                                .replaceWith(new Outcome(known ? 202 : 422, id, state, false));
                    });
                }))
                .call(audit::sequenced)
                .call(outcome -> outcome.duplicate() ? Uni.createFrom().voidItem() : preservationHold(event, outcome.eventId(), actor));
    }

    /**
     * Fail safe (domain.md "Holds"): an event whose details look like a preservation request places a
     * PRESERVATION_REQUEST hold on the lease's tenant at once, before the event is acted on, for a human to
     * review. An event for an unknown lease cannot name a tenant: that is audited for review instead.
     */
    private Uni<Void> preservationHold(LeaseEvent event, UUID eventId, String actor) {
        var matched = PreservationClassifier.match(event.details());
        if (matched.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        String reason = "inbound lease event " + event.source() + "/" + event.externalId() + " (" + eventId + ") looks like a preservation "
                + "request (" + matched.get() + "); placed automatically, to be reviewed by a person";
        return Panache.withSession(() -> io.metalgate.lease.Lease.<io.metalgate.lease.Lease>find("externalRef", event.leaseRef()).firstResult())
                .chain(lease -> lease == null
                        ? audit.append(actor, "hold.preservation-unplaced", "lease-ref:" + event.leaseRef(), Map.of("eventId", eventId.toString(),
                                "reason", reason + "; the lease is unknown, so no tenant could be held"))
                        : holds.place(new io.metalgate.lease.HoldService.HoldRequest(io.metalgate.lease.Hold.Kind.PRESERVATION_REQUEST,
                                lease.tenantId, null, null, reason), actor).call(audit::sequenced).replaceWithVoid());
    }

    /**
     * Acts on a stored event: moves its lease by the transition table. An event the lease's state does not
     * accept is kept as REJECTED and its ApiException (409 with the allowed events) is passed on.
     */
    public Uni<Outcome> apply(UUID eventId, LeaseEvent event, String actor) {
        LeaseLifecycle.Event transition = LeaseLifecycle.Event.valueOf(event.type().name());
        String reason = "lease event " + event.source() + "/" + event.externalId();
        return leases.fireByExternalRef(event.leaseRef(), transition, reason, actor)
                .chain(view -> status(eventId, STATUS_APPLIED).replaceWith(new Outcome(202, eventId, STATUS_APPLIED, false)))
                .onFailure(ApiException.class).call(e -> status(eventId, STATUS_REJECTED));
    }

    private Uni<Void> status(UUID eventId, String status) {
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s
                .createNativeQuery("UPDATE inbound_event SET status = :st WHERE id = :id")
                .setParameter("st", status).setParameter("id", eventId).executeUpdate())).replaceWithVoid();
    }

    /** Keeps a message that could not be accepted, whole, with the reason; audits that it arrived. */
    public Uni<UUID> deadLetter(String channel, String body, String reason, String actor) {
        UUID id = UUID.randomUUID();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("deadLetterId", id.toString());
        payload.put("channel", channel);
        payload.put("reason", reason);
        payload.put("bodySha256", AuditHashes.sha256Hex(body));
        return Panache.withTransaction(() -> Panache.getSession().chain(s -> s.createNativeQuery(
                "INSERT INTO dead_letter (id, channel, received_at, reason, body) VALUES (:id, :c, :r, :reason, :b)")
                .setParameter("id", id).setParameter("c", channel).setParameter("r", Instant.now().atOffset(ZoneOffset.UTC))
                .setParameter("reason", reason).setParameter("b", storable(body)).executeUpdate())
                .chain(() -> audit.record(actor, "integration.dead-lettered", "dead-letter:" + id, payload)))
                .call(audit::sequenced).replaceWith(id);
    }

    /** The body as PostgreSQL can keep it as text: a NUL (refused by PostgreSQL) becomes U+FFFD; bodySha256 is of the body as received. */
    static String storable(String body) {
        return body.indexOf('\u0000') < 0 ? body : body.replace('\u0000', '\uFFFD');
    }

    private Uni<Boolean> leaseExists(String leaseRef) {
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT count(*) FROM lease WHERE external_ref = :r", Long.class)
                .setParameter("r", leaseRef).getSingleResult()).map(n -> n > 0);
    }

    private static Map<String, Object> payload(UUID id, LeaseEvent e, String state) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("eventId", id.toString());
        p.put("source", e.source());
        p.put("externalId", e.externalId());
        p.put("type", e.type().name());
        p.put("leaseRef", e.leaseRef());
        p.put("occurredAt", e.occurredAt() == null ? null : e.occurredAt().toString());
        p.put("status", state);
        return p;
    }
}
