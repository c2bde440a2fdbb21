package io.metalgate.integration;

import io.metalgate.common.ApiException;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

/**
 * What the intake could not process, kept whole with the reason, listed and replayed. A replay sends the
 * message again through the path of the channel it came by (a webhook's through its integration's field
 * map, without the signature: the person replaying vouches for it, and is recorded as its sender). One
 * that becomes an event is REPLAYED, naming the event; one that fails again stays OPEN with the new
 * reason and a count of replays.
 */
@ApplicationScoped
public class DeadLetters {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** A dead letter; {@code body} only in {@link #get}. */
    public record View(UUID id, String channel, Instant receivedAt, String reason, String bodySha256, int bodyLength, String status, int replays,
            Instant replayedAt, String replayedBy, UUID replayEventId, String replayReason, String body) {
    }

    public record Page(List<View> items, int page, int size, long total) {
    }

    /** What a replay did. */
    public record Replay(UUID deadLetterId, IntakeResult.Outcome outcome, UUID eventId, String status, io.metalgate.common.Problem problem) {
    }

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    ProducerTemplate camel;
    @Inject
    Integrations integrations;

    public Uni<Page> list(String status, String channel, int page, int size) {
        String where = " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)";
        Tuple args = Tuple.of(status, channel);
        return pool.preparedQuery("SELECT count(*) FROM dead_letter" + where).execute(args).map(r -> r.iterator().next().getLong(0))
                .chain(total -> pool.preparedQuery("SELECT * FROM dead_letter" + where + " ORDER BY received_at DESC, id LIMIT " + size
                        + " OFFSET " + ((long) page * size)).execute(args).map(rows -> {
                            List<View> items = new ArrayList<>();
                            rows.forEach(r -> items.add(view(r, false)));
                            return new Page(items, page, size, total);
                        }));
    }

    public Uni<View> get(UUID id) {
        return pool.preparedQuery("SELECT * FROM dead_letter WHERE id = $1").execute(Tuple.of(id)).map(rows -> {
            if (rows.size() == 0) {
                throw ApiException.notFound("dead letter", id);
            }
            return view(rows.iterator().next(), true);
        });
    }

    /** Replays one dead letter as {@code actor}; blocks (call it on a worker thread: the route is entered synchronously). */
    public Replay replay(UUID id, String actor) {
        View dl = get(id).await().atMost(TIMEOUT);
        if ("REPLAYED".equals(dl.status())) {
            throw ApiException.conflict("dead letter " + id + " was replayed into event " + dl.replayEventId() + " by " + dl.replayedBy(),
                    "id");
        }
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put(LeaseEventRoutes.ACTOR, actor);
        headers.put(LeaseEventRoutes.CHANNEL, dl.channel());
        headers.put(LeaseEventRoutes.REPLAY_OF, id);
        String endpoint = LeaseEventRoutes.INTAKE;
        if (dl.channel().startsWith("webhook:")) {
            String name = dl.channel().substring("webhook:".length());
            var hook = integrations.webhook(name).await().atMost(TIMEOUT).orElseThrow(() -> ApiException.conflict("dead letter " + id
                    + " came by integration " + name + ", which no longer exists; it cannot be mapped", "channel"));
            endpoint = WebhookRoutes.WEBHOOK_INTAKE;
            headers.put(WebhookRoutes.INTEGRATION, name);
            if (hook.mapping() != null) {
                headers.put(WebhookRoutes.MAPPING, hook.mapping());
            }
        }
        Exchange reply = camel.request(endpoint, ex -> {
            ex.getMessage().setBody(dl.body());
            ex.getMessage().setHeaders(headers);
        });
        if (reply.getException() != null || !(reply.getMessage().getBody() instanceof IntakeResult r)) {
            throw new IllegalStateException("replaying dead letter " + id + " failed", reply.getException());
        }
        if (r.eventId() != null) {
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("deadLetterId", id.toString());
            payload.put("eventId", r.eventId().toString());
            payload.put("outcome", r.outcome().name());
            payload.put("bodySha256", dl.bodySha256());
            pool.withTransaction(tx -> tx.preparedQuery("UPDATE dead_letter SET status = 'REPLAYED', replays = replays + 1, replayed_at = now(), "
                    + "replayed_by = $2, replay_event_id = $3, replay_reason = NULL WHERE id = $1").execute(Tuple.of(id, actor, r.eventId()))
                    .chain(() -> audit.record(tx, actor, "integration.dead-letter-replayed", "dead-letter:" + id, payload)))
                    .call(audit::sequenced).await().atMost(TIMEOUT);
        }
        return new Replay(id, r.outcome(), r.eventId(), r.status(), r.problem());
    }

    private static View view(Row r, boolean withBody) {
        String body = r.getString("body");
        return new View(r.getUUID("id"), r.getString("channel"), r.getOffsetDateTime("received_at").toInstant(), r.getString("reason"),
                AuditHashes.sha256Hex(body), body.length(), r.getString("status"), r.getInteger("replays"),
                r.getOffsetDateTime("replayed_at") == null ? null : r.getOffsetDateTime("replayed_at").toInstant(), r.getString("replayed_by"),
                r.getUUID("replay_event_id"), r.getString("replay_reason"), withBody ? body : null);
    }
}
