package io.metalgate.evidence;

import io.metalgate.common.MetalgateConfig;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.ProducerTemplate;
import org.jboss.logging.Logger;

/**
 * The witnesses' outbox. Each signed checkpoint becomes one {@code witness_delivery} row per configured
 * witness, in the checkpoint's own transaction (so no head is signed without being owed to every witness);
 * deliveries go out through the Camel routes of {@link WitnessRoutes}, in sequence order per witness, and
 * a failed one is retried with exponential backoff and jitter until it is delivered. What each witness
 * answered is kept as the delivery's receipt. Witness deliveries are not audit entries themselves: that
 * would make every checkpoint cause another one.
 */
@ApplicationScoped
public class AuditWitnesses {

    private static final Logger LOG = Logger.getLogger(AuditWitnesses.class);

    /** The kinds of witness, each a route {@code direct:audit-witness-<name>}. */
    public enum Kind {
        FILE, WEBHOOK, EMAIL, TSA;

        public String route() {
            return "direct:audit-witness-" + name().toLowerCase(Locale.ROOT);
        }
    }

    /** One delivery as the API shows it. */
    public record Delivery(long checkpointSeq, String witness, String status, int attempts, String lastError,
            String deliveredAt, String receipt) {
    }

    /** Delivery attempts are claimed for this long, so a crash mid-delivery only delays the retry. */
    private static final Duration CLAIM = Duration.ofSeconds(60);
    private static final int BATCH = 100;
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(60);

    @Inject
    Pool pool;
    @Inject
    MetalgateConfig config;
    @Inject
    ProducerTemplate camel;

    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();
    private volatile String logId;

    /** The witnesses configured. */
    public Set<Kind> configured() {
        MetalgateConfig.Audit.Witness w = config.audit().witness();
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        w.file().ifPresent(f -> kinds.add(Kind.FILE));
        w.webhookUrl().ifPresent(f -> kinds.add(Kind.WEBHOOK));
        w.emailTo().filter(l -> !l.isEmpty()).ifPresent(f -> kinds.add(Kind.EMAIL));
        w.tsaUrl().ifPresent(f -> kinds.add(Kind.TSA));
        return kinds;
    }

    /** Owes the checkpoint's head to every configured witness (inside the checkpoint's transaction). */
    Uni<Void> enqueue(SqlConnection tx, long seq, String hash, String time, String keyFingerprint, String signature) {
        Set<Kind> kinds = configured();
        if (kinds.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return logId(tx).chain(log -> {
            String head = AuditExportFormat.witnessedHead(log, seq, hash, time, keyFingerprint, signature);
            List<Tuple> rows = new ArrayList<>();
            for (Kind k : kinds) {
                rows.add(Tuple.of(seq, k.name(), head));
            }
            return tx.preparedQuery("INSERT INTO witness_delivery (checkpoint_seq, witness, head, status, next_attempt_at) "
                    + "VALUES ($1, $2, $3, 'PENDING', now()) ON CONFLICT DO NOTHING").executeBatch(rows).replaceWithVoid();
        });
    }

    /** The log's name in witnessed heads: the fingerprint of the key that signs from seq 1. */
    private Uni<String> logId(SqlConnection tx) {
        String known = logId;
        if (known != null) {
            return Uni.createFrom().item(known);
        }
        return tx.query("SELECT fingerprint FROM audit_key ORDER BY from_seq LIMIT 1").execute().map(rows -> {
            String id = rows.rowCount() == 0 ? "unknown" : rows.iterator().next().getString("fingerprint").trim();
            if (rows.rowCount() > 0) {
                logId = id;
            }
            return id;
        });
    }

    /** Delivers what is due now (after a checkpoint was committed), or soon if a round is running. */
    public void wake() {
        if (configured().isEmpty()) {
            return;
        }
        again.set(true);
        if (running.compareAndSet(false, true)) {
            round();
        }
    }

    @Scheduled(every = "${metalgate.audit.witness.poll-interval}", delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void poll() {
        wake();
    }

    private void round() {
        again.set(false);
        claimDue().chain(this::deliverAll).subscribe().with(n -> {
            running.set(false);
            if (again.get() || n >= BATCH) {
                wake();
            }
        }, failure -> {
            LOG.warn("Witness deliveries failed: " + failure.getMessage());
            running.set(false);
        });
    }

    private record Due(long id, long seq, Kind kind, String head, int attempts) {
    }

    private Uni<List<Due>> claimDue() {
        return pool.preparedQuery("UPDATE witness_delivery SET attempts = attempts + 1, next_attempt_at = now() + $1 * "
                + "interval '1 second' WHERE id = ANY(ARRAY(SELECT id FROM witness_delivery WHERE status = 'PENDING' "
                + "AND next_attempt_at <= now() ORDER BY checkpoint_seq, id LIMIT $2 FOR UPDATE SKIP LOCKED)) "
                + "RETURNING id, checkpoint_seq, witness, head, attempts")
                .execute(Tuple.of(CLAIM.toSeconds(), BATCH)).map(rows -> {
                    List<Due> due = new ArrayList<>();
                    for (Row r : rows) {
                        due.add(new Due(r.getLong("id"), r.getLong("checkpoint_seq"), Kind.valueOf(r.getString("witness")),
                                r.getString("head"), r.getInteger("attempts")));
                    }
                    due.sort(java.util.Comparator.comparingLong(Due::seq));
                    return due;
                });
    }

    /**
     * Each witness gets its heads one after another, in sequence order (a file witness stays ordered); the
     * witnesses run side by side. A witness that fails stops its turn: later heads wait for the earlier one.
     */
    private Uni<Integer> deliverAll(List<Due> due) {
        if (due.isEmpty()) {
            return Uni.createFrom().item(0);
        }
        Map<Kind, List<Due>> byKind = new java.util.EnumMap<>(Kind.class);
        due.forEach(d -> byKind.computeIfAbsent(d.kind(), k -> new ArrayList<>()).add(d));
        List<Uni<Void>> turns = new ArrayList<>();
        byKind.values().forEach(list -> turns.add(deliverInOrder(list, 0)));
        return Uni.join().all(turns).andCollectFailures().replaceWith(due.size());
    }

    private Uni<Void> deliverInOrder(List<Due> list, int i) {
        if (i >= list.size()) {
            return Uni.createFrom().voidItem();
        }
        Due d = list.get(i);
        CompletableFuture<Object> sent = camel.asyncRequestBodyAndHeader(d.kind().route(), d.head(), WitnessRoutes.SEQ, d.seq());
        // a witness that hangs (a stuck mount, a silent server) fails this attempt; the others go on
        return Uni.createFrom().completionStage(sent)
                .ifNoItem().after(DELIVERY_TIMEOUT).failWith(() -> new java.util.concurrent.TimeoutException(
                        "no answer within " + DELIVERY_TIMEOUT.toSeconds() + " s"))
                .onItem().transformToUni(receipt -> delivered(d, String.valueOf(receipt))
                        .chain(() -> deliverInOrder(list, i + 1)))
                .onFailure().recoverWithUni(e -> failed(d, list.subList(i + 1, list.size()), e));
    }

    private Uni<Void> delivered(Due d, String receipt) {
        return pool.preparedQuery("UPDATE witness_delivery SET status = 'DELIVERED', delivered_at = now(), receipt = $2, "
                + "last_error = NULL WHERE id = $1").execute(Tuple.of(d.id(), receipt)).replaceWithVoid();
    }

    /** Records the failure and when to try again; the heads after it in this turn are released for then too. */
    private Uni<Void> failed(Due d, List<Due> rest, Throwable e) {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof org.apache.camel.CamelExecutionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String error = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        long wait = backoffSeconds(d.attempts());
        LOG.warnf("Witness %s did not take the head at seq %d (attempt %d; next in %d s): %s", d.kind(), d.seq(),
                d.attempts(), wait, error);
        List<Long> ids = new ArrayList<>();
        ids.add(d.id());
        rest.forEach(r -> ids.add(r.id()));
        return pool.preparedQuery("UPDATE witness_delivery SET last_error = CASE WHEN id = $1 THEN $2 ELSE last_error END, "
                + "next_attempt_at = now() + $3 * interval '1 second' WHERE id = ANY($4)")
                .execute(Tuple.of(d.id(), error.length() > 2000 ? error.substring(0, 2000) : error, wait,
                        ids.toArray(new Long[0])))
                .replaceWithVoid();
    }

    /** 2, 4, 8 ... seconds up to {@code max-backoff}, with ±25 % jitter so retries of many heads spread out. */
    long backoffSeconds(int attempts) {
        long max = Math.max(1, config.audit().witness().maxBackoff().toSeconds());
        long base = Math.min(max, 1L << Math.min(30, Math.max(1, attempts)));
        double jitter = 0.75 + ThreadLocalRandom.current().nextDouble() * 0.5;
        return Math.max(1, Math.round(base * jitter));
    }

    /** The deliveries of the newest checkpoints, newest first. */
    public Uni<List<Delivery>> recent(int limit) {
        return pool.preparedQuery("SELECT checkpoint_seq, witness, status, attempts, last_error, delivered_at, receipt "
                + "FROM witness_delivery ORDER BY checkpoint_seq DESC, witness LIMIT $1").execute(Tuple.of(limit)).map(rows -> {
                    List<Delivery> out = new ArrayList<>();
                    for (Row r : rows) {
                        var at = r.getOffsetDateTime("delivered_at");
                        out.add(new Delivery(r.getLong("checkpoint_seq"), r.getString("witness"), r.getString("status"),
                                r.getInteger("attempts"), r.getString("last_error"),
                                at == null ? null : AuditHashes.formatTime(at.toInstant()), r.getString("receipt")));
                    }
                    return out;
                });
    }

    /** Every time-stamped head (head and token, as the tokens file keeps them), oldest first. */
    public Uni<List<String>> timeStamped() {
        return pool.preparedQuery("SELECT head, receipt FROM witness_delivery WHERE witness = $1 AND status = 'DELIVERED' "
                + "ORDER BY checkpoint_seq").execute(Tuple.of(Kind.TSA.name())).map(rows -> {
                    List<String> out = new ArrayList<>();
                    for (Row r : rows) {
                        try {
                            String token = MAPPER.readTree(r.getString("receipt")).path("token").asText();
                            out.add(AuditExportFormat.timeStampedHead(r.getString("head"), token));
                        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                            throw new IllegalStateException("a TSA receipt is not JSON", e);
                        }
                    }
                    return out;
                });
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();
}
