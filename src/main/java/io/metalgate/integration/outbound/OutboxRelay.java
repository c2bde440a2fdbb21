package io.metalgate.integration.outbound;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.NoticeService;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The outbox relay (decision 0016). Domain events leave by following the committed audit chain: every change already
 * writes its audit entry in its own transaction, and the sequencer commits the chain in sequence order, so what is
 * visible is always a gapless prefix. Each subscriber (the e-mail channel, each webhook or ticket endpoint) has a cursor;
 * one fan-out transaction locks the cursors, reads the entries after them, writes one {@code outbound_delivery} row per
 * entry and recipient (idempotency key {@code <subscriber>:<seq>}, Message-ID and body fixed here, before any send) and
 * moves the cursors: an entry is turned into its deliveries exactly once. Deliveries are then claimed (for
 * {@code claim}), sent, and recorded with their proof (and, for a notice, as a notice attempt with its audit entry) in
 * one transaction. A crash between the send and the record leaves the claim to expire: the delivery goes again with the
 * same key and Message-ID, which is how the receiver recognises it (at least once on the wire, once after dedup).
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    static final String EMAIL = "email";
    static final String ACTOR = "system/outbound";

    public enum Channel {
        EMAIL, WEBHOOK, TICKET
    }

    /** A subscriber of the chain: the e-mail channel or an endpoint. */
    record Subscriber(String name, Channel channel, Set<String> actions, OutboundEndpoints.Endpoint endpoint) {
    }

    /** An audit entry as the relay reads it. */
    record Entry(long seq, Instant time, String actor, String action, String subject, String payload, String hash) {
    }

    /** A delivery claimed for sending. */
    record Due(long id, String key, String subscriber, Channel channel, long seq, String action, UUID noticeId, UUID tenantId,
            String recipient, String messageId, String title, String body, int attempts) {
    }

    /** What a sent delivery proves, and the notice attempt it makes (null: none). */
    record Sent(String proof, NoticeService.Outcome outcome) {
    }

    @Inject
    Pool pool;
    @Inject
    OutboundConfig config;
    @Inject
    OutboundEndpoints endpoints;
    @Inject
    NoticeService notices;
    @Inject
    NoticeLinks links;
    @Inject
    AuditLog audit;
    @Inject
    ObjectMapper mapper;
    @Inject
    EmailSender email;
    @Inject
    HttpSender http;

    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicInteger crashAfterSend = new AtomicInteger();
    private final SecureRandom random = new SecureRandom();

    @Scheduled(every = "${metalgate.outbound.poll-interval:PT2S}", delayed = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void poll() {
        if (!config.enabled() || paused || !running.compareAndSet(false, true)) {
            return;
        }
        runOnce().subscribe().with(n -> running.set(false), e -> {
            LOG.warn("Outbound relay round failed: " + e.getMessage());
            running.set(false);
        });
    }

    /** One round: the chain's new entries into deliveries, then what is due sent. Returns the deliveries attempted. */
    public Uni<Integer> runOnce() {
        return fanOut().chain(this::deliverDue);
    }

    /**
     * Test seam for the crash test: the next {@code n} deliveries are sent and then not recorded, as if the appliance
     * died between the two; their claim then expires and they go again.
     */
    public void simulateCrashAfterSend(Channel channel, int n) {
        crashChannel = channel;
        crashAfterSend.set(n);
    }

    private volatile Channel crashChannel;
    private volatile boolean paused;

    /** Holds the scheduled rounds back (the benchmark fills the outbox first, then times draining it). */
    void pause(boolean pause) {
        paused = pause;
    }

    // ---------------------------------------------------------------------------------------------- fan-out

    Uni<Integer> fanOut() {
        return pool.withTransaction(tx -> endpoints.active(tx).chain(eps -> {
            List<Subscriber> subs = new ArrayList<>();
            if (config.email().enabled()) {
                subs.add(new Subscriber(EMAIL, Channel.EMAIL, Set.of("notice.created"), null));
            }
            eps.forEach(e -> subs.add(new Subscriber(e.subscriber(), e.kind() == OutboundEndpoints.Kind.TICKET ? Channel.TICKET
                    : Channel.WEBHOOK, e.actions(), e)));
            if (subs.isEmpty()) {
                return Uni.createFrom().item(0);
            }
            String[] names = subs.stream().map(Subscriber::name).toArray(String[]::new);
            // the e-mail channel's cursor starts where V20 put it; an endpoint's where it was created (at the head); one
            // without a cursor (none should be) starts at the head: it gets what happens from now on
            return tx.preparedQuery("INSERT INTO outbox_cursor (subscriber, last_seq, updated_at) SELECT s, h.seq, now() "
                    + "FROM unnest($1::text[]) AS s, audit_head h ON CONFLICT DO NOTHING").execute(Tuple.of(names))
                    .chain(() -> tx.preparedQuery("SELECT subscriber, last_seq FROM outbox_cursor WHERE subscriber = ANY($1) "
                            + "FOR UPDATE SKIP LOCKED").execute(Tuple.of(names)))
                    .chain(rows -> {
                        Map<String, Long> cursor = new HashMap<>();
                        rows.forEach(r -> cursor.put(r.getString("subscriber"), r.getLong("last_seq")));
                        List<Subscriber> mine = subs.stream().filter(s -> cursor.containsKey(s.name())).toList();
                        if (mine.isEmpty()) {
                            return Uni.createFrom().item(0); // another appliance is fanning out
                        }
                        long lo = mine.stream().mapToLong(s -> cursor.get(s.name())).min().orElseThrow();
                        return tx.query("SELECT seq FROM audit_head").execute().chain(h -> {
                            long head = h.iterator().next().getLong(0);
                            long hi = Math.min(head, lo + config.window());
                            if (hi <= lo) {
                                return Uni.createFrom().item(0);
                            }
                            String[] actions = mine.stream().flatMap(s -> s.actions().stream()).distinct().toArray(String[]::new);
                            return tx.preparedQuery("SELECT seq, time, actor, action, subject, payload, hash FROM audit_entry "
                                    + "WHERE seq > $1 AND seq <= $2 AND action = ANY($3) ORDER BY seq")
                                    .execute(Tuple.of(lo, hi, actions))
                                    .chain(entries -> deliveries(tx, mine, cursor, entries))
                                    .chain(ds -> insert(tx, ds)
                                            .chain(() -> tx.preparedQuery("UPDATE outbox_cursor SET last_seq = greatest(last_seq, $2), "
                                                    + "updated_at = now() WHERE subscriber = ANY($1)")
                                                    .execute(Tuple.of(mine.stream().map(Subscriber::name).toArray(String[]::new), hi)))
                                            .replaceWith(ds.size()));
                        });
                    });
        }));
    }

    /** A new delivery row. */
    record NewDelivery(String key, String subscriber, Channel channel, long seq, String action, UUID noticeId, UUID tenantId,
            String recipient, String messageId, String title, String body, String error) {
    }

    private Uni<List<NewDelivery>> deliveries(SqlConnection tx, List<Subscriber> subs, Map<String, Long> cursor,
            io.vertx.mutiny.sqlclient.RowSet<Row> rows) {
        List<Entry> entries = new ArrayList<>();
        for (Row r : rows) {
            entries.add(new Entry(r.getLong("seq"), r.getOffsetDateTime("time").toInstant(), r.getString("actor"), r.getString("action"),
                    r.getString("subject"), r.getString("payload"), r.getString("hash")));
        }
        List<UUID> tenantIds = entries.stream().filter(e -> e.action().equals("notice.created"))
                .map(e -> tenantOf(e.subject())).filter(java.util.Objects::nonNull).distinct().toList();
        Uni<Map<UUID, String[]>> tenants = tenantIds.isEmpty() ? Uni.createFrom().item(Map.of())
                : tx.preparedQuery("SELECT id, name, contact_email FROM tenant WHERE id = ANY($1)")
                        .execute(Tuple.of(tenantIds.toArray(new UUID[0]))).map(t -> {
                            Map<UUID, String[]> m = new HashMap<>();
                            t.forEach(r -> m.put(r.getUUID("id"), new String[] {r.getString("name"), r.getString("contact_email")}));
                            return m;
                        });
        return tenants.map(tenantInfo -> {
            List<NewDelivery> out = new ArrayList<>();
            for (Entry e : entries) {
                JsonNode payload = json(e.payload());
                for (Subscriber s : subs) {
                    if (e.seq() <= cursor.get(s.name()) || !s.actions().contains(e.action()) || !wants(s, e, payload)) {
                        continue;
                    }
                    String key = s.name() + ":" + e.seq();
                    UUID noticeId = e.action().equals("notice.created") ? uuid(payload.path("noticeId").asText(null)) : null;
                    UUID tenantId = tenantOf(e.subject());
                    switch (s.channel()) {
                        case EMAIL -> out.add(noticeMail(key, e, payload, noticeId, tenantId, tenantInfo.get(tenantId)));
                        case WEBHOOK -> out.add(new NewDelivery(key, s.name(), Channel.WEBHOOK, e.seq(), e.action(), noticeId, tenantId,
                                s.endpoint().url(), null, null, event(key, e, payload), null));
                        case TICKET -> out.add(new NewDelivery(key, s.name(), Channel.TICKET, e.seq(), e.action(), noticeId, tenantId,
                                s.endpoint().url(), null, null, ticket(key, e, payload), null));
                    }
                }
            }
            return out;
        });
    }

    /** Whether the subscriber gets this entry: a tenant's endpoint only the tenant's own; a ticket only erase decisions. */
    static boolean wants(Subscriber s, Entry e, JsonNode payload) {
        if (s.endpoint() != null && s.endpoint().tenantId() != null && !e.subject().equals("tenant:" + s.endpoint().tenantId())) {
            return false;
        }
        if (s.channel() == Channel.TICKET && e.action().equals("gate.decided")) {
            return "ERASE".equals(payload.path("action").asText());
        }
        return true;
    }

    private NewDelivery noticeMail(String key, Entry e, JsonNode payload, UUID noticeId, UUID tenantId, String[] tenant) {
        String kind = payload.path("kind").asText();
        String messageId = "<notice." + noticeId + "." + e.seq() + "." + HexFormat.of().formatHex(bytes(6)) + "@"
                + config.email().messageIdDomain() + ">";
        String title = "Notice of " + kind.toLowerCase(java.util.Locale.ROOT) + (tenant == null ? "" : " for " + tenant[0]);
        StringBuilder body = new StringBuilder();
        body.append("This is a notice of ").append(kind.toLowerCase(java.util.Locale.ROOT)).append(" from your hosting provider")
                .append(tenant == null ? "" : " to " + tenant[0]).append(".\n\n");
        if (!payload.path("leaseId").isNull() && payload.hasNonNull("leaseId")) {
            body.append("Lease: ").append(payload.path("leaseId").asText()).append('\n');
        }
        if (payload.hasNonNull("deadline")) {
            body.append("Deadline: ").append(payload.path("deadline").asText()).append('\n');
        }
        body.append("Notice: ").append(noticeId).append('\n');
        links.url(noticeId, Instant.now()).ifPresent(url -> body.append("\nAcknowledge this notice, ask for your data to be preserved, "
                + "or ask for an export of it here:\n").append(url).append('\n'));
        body.append("\nReference: ").append(key).append(" (audit entry ").append(e.seq()).append(", ").append(e.hash()).append(")\n");
        String to = tenant == null ? null : tenant[1];
        return new NewDelivery(key, EMAIL, Channel.EMAIL, e.seq(), e.action(), noticeId, tenantId, to == null ? "" : to, messageId, title,
                body.toString(), to == null || to.isBlank() ? "the tenant has no contact e-mail address" : null);
    }

    /** A webhook's body: the audit entry itself, so the receiver can check it against an export of the chain. */
    private String event(String key, Entry e, JsonNode payload) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", key);
        m.put("type", e.action());
        m.put("seq", e.seq());
        m.put("time", e.time().toString());
        m.put("actor", e.actor());
        m.put("subject", e.subject());
        m.put("data", payload);
        m.put("hash", e.hash());
        return write(m);
    }

    /** A ticket for a gate event: erase scheduled or blocked, hold placed or released. */
    private String ticket(String key, Entry e, JsonNode payload) {
        String what = switch (e.action()) {
            case "gate.decided" -> payload.path("allowed").asBoolean() ? "Erase scheduled" : "Erase blocked";
            case "hold.placed" -> "Hold placed";
            case "hold.released" -> "Hold released";
            case "notice.created" -> "Notice created";
            default -> e.action();
        };
        StringBuilder d = new StringBuilder(what).append(" on ").append(e.subject()).append(" by ").append(e.actor()).append(" at ")
                .append(e.time()).append(" (audit entry ").append(e.seq()).append(").");
        if (e.action().equals("gate.decided") && !payload.path("allowed").asBoolean()) {
            payload.path("reasons").forEach(r -> d.append("\n- ").append(r.path("code").asText()).append(": ").append(r.path("message").asText()));
        }
        if (payload.hasNonNull("reason")) {
            d.append("\nReason: ").append(payload.path("reason").asText());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("idempotencyKey", key);
        m.put("title", what + ": " + e.subject());
        m.put("description", d.toString());
        m.put("event", e.action());
        m.put("subject", e.subject());
        m.put("seq", e.seq());
        m.put("hash", e.hash());
        return write(m);
    }

    private Uni<Void> insert(SqlConnection tx, List<NewDelivery> ds) {
        if (ds.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<Tuple> rows = new ArrayList<>();
        for (NewDelivery d : ds) {
            rows.add(Tuple.from(Arrays.asList(d.key(), d.subscriber(), d.channel().name(), d.seq(), d.action(), d.noticeId(), d.tenantId(),
                    d.recipient(), d.messageId(), d.title(), d.body(), d.error() == null ? "PENDING" : "FAILED", d.error())));
        }
        return tx.preparedQuery("INSERT INTO outbound_delivery (idempotency_key, subscriber, channel, audit_seq, action, notice_id, "
                + "tenant_id, recipient, message_id, title, body, status, last_error, next_attempt_at, created_at) "
                + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now(), now()) ON CONFLICT (idempotency_key) DO NOTHING")
                .executeBatch(rows).replaceWithVoid();
    }

    // ---------------------------------------------------------------------------------------------- delivery

    Uni<Integer> deliverDue() {
        return pool.preparedQuery("UPDATE outbound_delivery SET attempts = attempts + 1, next_attempt_at = now() + $1 * interval '1 millisecond' "
                + "WHERE id = ANY(ARRAY(SELECT id FROM outbound_delivery WHERE status = 'PENDING' AND next_attempt_at <= now() "
                + "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING id, idempotency_key, subscriber, channel, audit_seq, action, "
                + "notice_id, tenant_id, recipient, message_id, title, body, attempts")
                .execute(Tuple.of(config.claim().toMillis(), config.batch())).chain(rows -> {
                    List<Due> due = new ArrayList<>();
                    for (Row r : rows) {
                        due.add(new Due(r.getLong("id"), r.getString("idempotency_key"), r.getString("subscriber"),
                                Channel.valueOf(r.getString("channel")), r.getLong("audit_seq"), r.getString("action"), r.getUUID("notice_id"),
                                r.getUUID("tenant_id"), r.getString("recipient"), r.getString("message_id"), r.getString("title"),
                                r.getString("body"), r.getInteger("attempts")));
                    }
                    if (due.isEmpty()) {
                        return Uni.createFrom().item(0);
                    }
                    due.sort(java.util.Comparator.comparingLong(Due::id));
                    return Multi.createFrom().iterable(due).onItem().transformToUni(this::deliver).merge(Math.max(1, config.concurrency()))
                            .collect().asList().map(List::size);
                });
    }

    private Uni<Void> deliver(Due d) {
        Uni<Sent> sent = switch (d.channel()) {
            case EMAIL -> email.send(d);
            case WEBHOOK, TICKET -> endpoints.forDelivery(UUID.fromString(d.subscriber().substring("endpoint:".length())))
                    .chain(ep -> http.post(d, ep));
        };
        return sent.chain(s -> {
            if (d.channel() == crashChannel && crashAfterSend.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                LOG.warnf("Outbound delivery %s sent and deliberately not recorded (simulated crash)", d.key());
                return Uni.createFrom().voidItem();
            }
            return recorded(d, s);
        }).onFailure().recoverWithUni(e -> failed(d, e));
    }

    private Uni<Void> recorded(Due d, Sent s) {
        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE outbound_delivery SET status = 'SENT', proof = $2, sent_at = now(), "
                + "last_error = NULL WHERE id = $1 AND status = 'PENDING'").execute(Tuple.of(d.id(), s.proof())).chain(r -> {
                    if (r.rowCount() == 0 || d.noticeId() == null || s.outcome() == null) {
                        return Uni.createFrom().voidItem();
                    }
                    NoticeService.Channel ch = NoticeService.Channel.valueOf(d.channel().name());
                    return notices.recordAttempt(tx, d.noticeId(), ch, s.outcome(), s.proof(), null, ACTOR)
                            .chain(attempt -> tx.preparedQuery("UPDATE outbound_delivery SET attempt_id = $2 WHERE id = $1")
                                    .execute(Tuple.of(d.id(), attempt)).replaceWithVoid());
                }));
    }

    private Uni<Void> failed(Due d, Throwable e) {
        String error = e.getClass().getSimpleName() + ": " + e.getMessage();
        if (error.length() > 2000) {
            error = error.substring(0, 2000);
        }
        String err = error;
        if (d.attempts() >= config.maxAttempts()) {
            LOG.warnf("Outbound delivery %s given up after %d attempts: %s", d.key(), d.attempts(), err);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("idempotencyKey", d.key());
            payload.put("channel", d.channel().name());
            payload.put("auditSeq", d.seq());
            payload.put("noticeId", d.noticeId() == null ? null : d.noticeId().toString());
            payload.put("attempts", d.attempts());
            payload.put("error", err);
            String subject = d.tenantId() != null ? "tenant:" + d.tenantId() : d.subscriber().replace("endpoint:", "outbound-endpoint:");
            return pool.withTransaction(tx -> tx.preparedQuery("UPDATE outbound_delivery SET status = 'FAILED', last_error = $2 "
                    + "WHERE id = $1 AND status = 'PENDING'").execute(Tuple.of(d.id(), err))
                    .chain(r -> r.rowCount() == 0 ? Uni.createFrom().voidItem()
                            : audit.record(tx, ACTOR, "outbound.delivery-failed", subject, payload)));
        }
        long wait = backoffMillis(d.attempts());
        LOG.infof("Outbound delivery %s failed (attempt %d, next in %d ms): %s", d.key(), d.attempts(), wait, err);
        return pool.preparedQuery("UPDATE outbound_delivery SET last_error = $2, next_attempt_at = now() + $3 * interval '1 millisecond' "
                + "WHERE id = $1 AND status = 'PENDING'").execute(Tuple.of(d.id(), err, wait)).replaceWithVoid();
    }

    /** initial-backoff × 2^(attempts-1), at most max-backoff, with ±25 % jitter so retries of many deliveries spread out. */
    long backoffMillis(int attempts) {
        long max = Math.max(1, config.maxBackoff().toMillis());
        long base = Math.min(max, config.initialBackoff().toMillis() << Math.min(30, Math.max(0, attempts - 1)));
        double jitter = 0.75 + ThreadLocalRandom.current().nextDouble() * 0.5;
        return Math.max(1, Math.round(base * jitter));
    }

    // ---------------------------------------------------------------------------------------------- bounces

    /**
     * A bounce or auto-reply read back for one of our Message-IDs: the delivery becomes BOUNCED and its notice gets a
     * BOUNCED attempt that supersedes the SENT one (the gate counts them as one attempt, and neither as proof). Returns
     * whether a SENT delivery had that Message-ID (false: unknown, or already bounced).
     */
    public Uni<Boolean> bounced(String messageId, String proof) {
        return pool.withTransaction(tx -> tx.preparedQuery("UPDATE outbound_delivery SET status = 'BOUNCED', last_error = $2 "
                + "WHERE message_id = $1 AND status = 'SENT' RETURNING notice_id, attempt_id").execute(Tuple.of(messageId, proof))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        return Uni.createFrom().item(false);
                    }
                    Row r = rows.iterator().next();
                    if (r.getUUID("notice_id") == null) {
                        return Uni.createFrom().item(true);
                    }
                    return notices.recordAttempt(tx, r.getUUID("notice_id"), NoticeService.Channel.EMAIL, NoticeService.Outcome.BOUNCED,
                            proof, r.getUUID("attempt_id"), "system/imap").replaceWith(true);
                }));
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private JsonNode json(String s) {
        try {
            return mapper.readTree(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("an audit payload is not JSON", e);
        }
    }

    private String write(Object o) {
        try {
            return mapper.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static UUID tenantOf(String subject) {
        return subject.startsWith("tenant:") ? uuid(subject.substring("tenant:".length())) : null;
    }

    private static UUID uuid(String s) {
        try {
            return s == null ? null : UUID.fromString(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
