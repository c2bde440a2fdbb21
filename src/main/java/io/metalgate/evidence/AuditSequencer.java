package io.metalgate.evidence;

import io.metalgate.common.MetalgateConfig;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * Turns pending audit records into the hash chain.
 *
 * <p>One pass is one transaction: lock the {@code audit_head} row, take up to {@code batch-limit}
 * pending rows (oldest first, {@code SKIP LOCKED}), give them the next sequence numbers, hash each over
 * its predecessor, insert them, move the head. The row lock makes the chain linear even with several
 * appliances on one database; batching is what makes thousands of appends per second possible (one
 * commit for many entries). Requests call {@link #flush()} after their own transaction committed and
 * resume when a pass that started after that has finished, so their entry is in the chain when they answer.
 * A pass also signs a checkpoint whenever the chain crosses a multiple of {@code checkpoint-every}.
 */
@ApplicationScoped
public class AuditSequencer {

    private static final Logger LOG = Logger.getLogger(AuditSequencer.class);

    /** A caller waiting for a pass; {@code entry} is set for a standalone append carried in memory. */
    private record Waiter(CompletableFuture<Void> done, Context context, Pending entry) {
    }

    /** An entry to chain: a row of audit_pending ({@code id} > 0) or a standalone append ({@code id} = 0). */
    record Pending(long id, Instant occurredAt, String actor, String action, String subject, String payload) {
    }

    @Inject
    Pool pool;
    @Inject
    AuditSigningKey key;
    @Inject
    MetalgateConfig config;

    private final Object lock = new Object();
    private List<Waiter> waiting = new ArrayList<>();
    private boolean running;

    /** Completes once every pending record committed before this call is in the chain. */
    public Uni<Void> flush() {
        return enqueue(null);
    }

    /**
     * Chains an entry that has no transaction of its own to join: it is written by the next pass, in that
     * pass's transaction, so many standalone appends share one commit. Completes when that commit is done.
     */
    Uni<Void> appendStandalone(Instant occurredAt, String actor, String action, String subject, String canonicalPayload) {
        return enqueue(new Pending(0, occurredAt, actor, action, subject, canonicalPayload));
    }

    private Uni<Void> enqueue(Pending entry) {
        Waiter w = new Waiter(new CompletableFuture<>(), Vertx.currentContext(), entry);
        boolean start;
        synchronized (lock) {
            waiting.add(w);
            start = !running;
            running = true;
        }
        if (start) {
            startPass();
        }
        return Uni.createFrom().completionStage(w.done());
    }

    /** Catches records whose writer crashed before calling {@link #flush()}. */
    @Scheduled(every = "10s", delayed = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweep() {
        return flush().onFailure().invoke(e -> LOG.warn("Audit sweep failed: " + e.getMessage()))
                .onFailure().recoverWithNull();
    }

    private void startPass() {
        List<Waiter> batch;
        synchronized (lock) {
            batch = waiting;
            waiting = new ArrayList<>();
        }
        List<Pending> standalone = new ArrayList<>();
        for (Waiter w : batch) {
            if (w.entry() != null) {
                standalone.add(w.entry());
            }
        }
        drain(standalone).subscribe().with(ignored -> finish(batch, null), failure -> finish(batch, failure));
    }

    private void finish(List<Waiter> batch, Throwable failure) {
        for (Waiter w : batch) {
            Runnable complete = failure == null ? () -> w.done().complete(null) : () -> w.done().completeExceptionally(failure);
            if (w.context() != null) {
                w.context().runOnContext(v -> complete.run());
            } else {
                complete.run();
            }
        }
        boolean again;
        synchronized (lock) {
            again = !waiting.isEmpty();
            running = again;
        }
        if (again) {
            startPass();
        }
    }

    /** Chains batches until a batch of pending rows comes back smaller than the limit. */
    private Uni<Void> drain(List<Pending> standalone) {
        int limit = config.audit().batchLimit();
        return pool.withTransaction(tx -> chainOnce(tx, standalone))
                .chain(n -> n >= limit ? drain(List.of()) : Uni.createFrom().voidItem());
    }

    /** One pass: pending rows (oldest first), then the standalone appends; returns the number of rows taken. */
    private Uni<Integer> chainOnce(SqlConnection tx, List<Pending> standalone) {
        int limit = config.audit().batchLimit();
        return tx.query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").execute()
                .chain(headRows -> {
                    long t0 = System.nanoTime();
                    Row head = headRows.iterator().next();
                    long headSeq = head.getLong("seq");
                    String headHash = head.getString("hash");
                    // = ANY(ARRAY(...)) and not IN (...): with IN, a planner that believes the queue is
                    // empty joins by scanning it once per taken row (0.6 s for 2,000 rows of a bulk plan)
                    return tx.preparedQuery("DELETE FROM audit_pending WHERE id = ANY(ARRAY(SELECT id FROM audit_pending ORDER BY id "
                            + "LIMIT $1 FOR UPDATE SKIP LOCKED)) RETURNING id, occurred_at, actor, action, subject, payload")
                            .execute(Tuple.of(limit))
                            .chain(rows -> {
                                List<Pending> pending = new ArrayList<>(rows.rowCount());
                                rows.forEach(r -> pending.add(new Pending(r.getLong("id"),
                                        r.getOffsetDateTime("occurred_at").toInstant(), r.getString("actor"),
                                        r.getString("action"), r.getString("subject"), r.getString("payload"))));
                                int taken = pending.size();
                                pending.sort(Comparator.comparingLong(Pending::id));
                                pending.addAll(standalone);
                                if (pending.isEmpty()) {
                                    return Uni.createFrom().item(0);
                                }
                                long t1 = System.nanoTime();
                                return append(tx, headSeq, headHash, pending).replaceWith(taken).invoke(() -> {
                                    if (LOG.isDebugEnabled()) {
                                        LOG.debugf("audit pass: %d entries, taking pending %d ms, hashing and inserting %d ms",
                                                pending.size(), (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
                                    }
                                });
                            });
                });
    }

    private Uni<Void> append(SqlConnection tx, long headSeq, String headHash, List<Pending> pending) {
        List<Tuple> tuples = new ArrayList<>(pending.size());
        long seq = headSeq;
        String prev = headHash;
        for (Pending p : pending) {
            seq++;
            String time = AuditHashes.formatTime(p.occurredAt());
            String hash = AuditHashes.entryHash(seq, time, p.actor(), p.action(), p.subject(), p.payload(), prev);
            tuples.add(Tuple.from(List.of(seq, p.occurredAt().atOffset(ZoneOffset.UTC), p.actor(), p.action(), p.subject(),
                    p.payload(), prev, hash)));
            prev = hash;
        }
        long newSeq = seq;
        String newHash = prev;
        Uni<Void> work = tx.preparedQuery("INSERT INTO audit_entry (seq, time, actor, action, subject, payload, prev_hash, hash) "
                + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)").executeBatch(tuples)
                .chain(() -> tx.preparedQuery("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                        .execute(Tuple.of(newSeq, newHash)))
                .replaceWithVoid();
        int every = Math.max(1, config.audit().checkpointEvery());
        if (newSeq / every > headSeq / every) {
            work = work.chain(() -> insertCheckpoint(tx, newSeq, newHash));
        }
        return work;
    }

    /** Signs and stores a checkpoint for the entry {@code seq} whose hash is {@code hash}. */
    Uni<Void> insertCheckpoint(SqlConnection tx, long seq, String hash) {
        Instant now = AuditHashes.truncate(Instant.now());
        String time = AuditHashes.formatTime(now);
        String signature = key.sign(AuditHashes.checkpointSigningInput(seq, hash, time));
        return tx.preparedQuery("INSERT INTO audit_checkpoint (seq, hash, time, key_fingerprint, signature) "
                + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING")
                .execute(Tuple.of(seq, hash, OffsetDateTime.ofInstant(now, ZoneOffset.UTC), key.fingerprint(), signature))
                .replaceWithVoid();
    }

    /** Signs a checkpoint at the current head now (if it has none yet). */
    public Uni<Void> checkpointHead() {
        return pool.withTransaction(tx -> tx.query("SELECT seq, hash FROM audit_head WHERE id = 1").execute()
                .chain(rows -> {
                    Row head = rows.iterator().next();
                    long seq = head.getLong("seq");
                    return seq == 0 ? Uni.createFrom().voidItem() : insertCheckpoint(tx, seq, head.getString("hash"));
                }));
    }
}
