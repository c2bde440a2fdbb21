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
import java.util.Optional;
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
 * A pass also signs a checkpoint whenever the chain crosses a multiple of {@code checkpoint-every}, and
 * when asked to ({@link #checkpointHead()}: every {@code checkpoint-interval} and on demand), with the key
 * the fleet's registry names as current; each checkpoint goes into the witnesses' outbox in the same
 * transaction. A key hand-over ({@link #rotate}) is chained here too, so its entry is signed at its place.
 */
@ApplicationScoped
public class AuditSequencer {

    private static final Logger LOG = Logger.getLogger(AuditSequencer.class);

    /**
     * A caller waiting for a pass; {@code entry} is set for a standalone append carried in memory,
     * {@code checkpoint} when it asks for a checkpoint at the head, {@code rotation} for a key hand-over.
     */
    private record Waiter(CompletableFuture<Void> done, Context context, Pending entry, boolean checkpoint, Rotation rotation) {
    }

    /** An entry to chain: a row of audit_pending ({@code id} > 0) or a standalone append ({@code id} = 0). */
    record Pending(long id, Instant occurredAt, String actor, String action, String subject, String payload) {
    }

    /** A key hand-over to chain: its entry's payload is signed at its place in the chain, by both keys. */
    record Rotation(AuditSigner next, String actor, String reason) {
    }

    /** What one pass does besides chaining pending rows. */
    private record PassWork(List<Pending> standalone, boolean checkpoint, Rotation rotation) {
    }

    static final String KEY_ROTATED = "audit.key-rotated";
    static final String KEY_SUBJECT = "audit:key";

    @Inject
    Pool pool;
    @Inject
    AuditSigningKey key;
    @Inject
    MetalgateConfig config;
    @Inject
    AuditWitnesses witnesses;
    @Inject
    AuditIntegrity integrity;

    /** The checkpoint the running pass signed (passes run one at a time), remembered once it committed. */
    private volatile AuditIntegrity.Head signedInPass;

    private final Object lock = new Object();
    private List<Waiter> waiting = new ArrayList<>();
    private boolean running;

    /** Completes once every pending record committed before this call is in the chain. */
    public Uni<Void> flush() {
        return enqueue(new Waiter(new CompletableFuture<>(), Vertx.currentContext(), null, false, null));
    }

    /** Chains what is pending, then signs a checkpoint at the head unless the head has one already. */
    public Uni<Void> checkpointHead() {
        return enqueue(new Waiter(new CompletableFuture<>(), Vertx.currentContext(), null, true, null));
    }

    /**
     * Hands the signing over to {@code next}: an {@code audit.key-rotated} entry at the head, signed by the
     * current key (which vouches for its successor) and by {@code next} (which takes over the history up to
     * it), then a checkpoint signed by {@code next}; from then on {@code next} signs.
     */
    public Uni<Void> rotate(AuditSigner next, String actor, String reason) {
        return enqueue(new Waiter(new CompletableFuture<>(), Vertx.currentContext(), null, true,
                new Rotation(next, actor, reason)));
    }

    /**
     * Signs a checkpoint when entries were appended since the last one: with the count rule this bounds the
     * time an entry goes unanchored (and unwitnessed) by {@code checkpoint-interval}, however quiet the log.
     */
    @Scheduled(every = "${metalgate.audit.checkpoint-interval}", delayed = "${metalgate.audit.checkpoint-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> checkpointByTime() {
        return checkpointHead().onFailure().invoke(e -> LOG.warn("Timed audit checkpoint failed: " + e.getMessage()))
                .onFailure().recoverWithNull();
    }

    /**
     * Chains an entry that has no transaction of its own to join: it is written by the next pass, in that
     * pass's transaction, so many standalone appends share one commit. Completes when that commit is done.
     */
    Uni<Void> appendStandalone(Instant occurredAt, String actor, String action, String subject, String canonicalPayload) {
        return enqueue(new Waiter(new CompletableFuture<>(), Vertx.currentContext(),
                new Pending(0, occurredAt, actor, action, subject, canonicalPayload), false, null));
    }

    private Uni<Void> enqueue(Waiter w) {
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
        List<Waiter> batch = new ArrayList<>();
        synchronized (lock) {
            // one key hand-over per pass: a second one waits for the next pass (it hands over from the first)
            Rotation rotation = null;
            List<Waiter> later = new ArrayList<>();
            for (Waiter w : waiting) {
                if (w.rotation() != null && rotation != null) {
                    later.add(w);
                } else {
                    rotation = w.rotation() != null ? w.rotation() : rotation;
                    batch.add(w);
                }
            }
            waiting = later;
        }
        List<Pending> standalone = new ArrayList<>();
        boolean checkpoint = false;
        Rotation rotation = null;
        for (Waiter w : batch) {
            if (w.entry() != null) {
                standalone.add(w.entry());
            }
            checkpoint |= w.checkpoint();
            rotation = w.rotation() != null ? w.rotation() : rotation;
        }
        drain(new PassWork(standalone, checkpoint, rotation))
                .subscribe().with(ignored -> finish(batch, null), failure -> finish(batch, failure));
    }

    /**
     * What follows each committed transaction of a pass (before the next one signs anything). None of it may
     * fail the pass (its entries are in the chain): a failure here raises the alarm or is healed later (the
     * registry promotes the next key at the next signature after checking the hand-over).
     */
    private void committed(Rotation handOver) {
        try {
            AuditIntegrity.Head signed = signedInPass;
            if (signed != null) {
                integrity.signed(signed.seq(), signed.hash());
            }
        } catch (RuntimeException e) {
            integrity.alarm("cannot record the last signed head: " + e.getMessage());
        }
        try {
            if (handOver != null) {
                key.promote(handOver.next()); // before the next pass signs anything
            }
        } catch (RuntimeException e) {
            LOG.error("After an audit pass: " + e.getMessage(), e);
        }
    }

    private void finish(List<Waiter> batch, Throwable failure) {
        witnesses.wake(); // what the pass's committed transactions owe
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
    private Uni<Void> drain(PassWork work) {
        int limit = config.audit().batchLimit();
        signedInPass = null;
        return pool.withTransaction(tx -> chainOnce(tx, work))
                .onFailure().recoverWithUni(this::diagnose)
                .invoke(() -> committed(work.rotation()))
                .chain(n -> n >= limit ? drain(new PassWork(List.of(), work.checkpoint(), null)) : Uni.createFrom().voidItem());
    }

    /**
     * Why a pass failed, when the chain itself is the cause: entries beyond the head (only someone with the
     * triggers off can rewind the head and leave them) refuse every later pass — the head's guard will not move
     * it past them and their sequence numbers are taken. That raises the alarm and answers as a regression
     * does, instead of an anonymous error on every audited request while audit_pending grows.
     */
    private Uni<Integer> diagnose(Throwable failure) {
        return pool.query("SELECT (SELECT seq FROM audit_head WHERE id = 1) AS head, "
                + "coalesce((SELECT max(seq) FROM audit_entry), 0) AS newest").execute()
                .onFailure().recoverWithNull()
                .chain(rows -> {
                    if (rows == null || rows.rowCount() == 0) {
                        return Uni.createFrom().failure(failure);
                    }
                    Row r = rows.iterator().next();
                    Long head = r.getLong("head");
                    long newest = r.getLong("newest");
                    if (head == null || newest <= head) {
                        return Uni.createFrom().failure(failure);
                    }
                    String why = "the chain holds entries up to seq " + newest + " beyond its head (seq " + head
                            + "): the head was rewound with the triggers off, and nothing more can be chained";
                    integrity.alarm(why);
                    LOG.errorf("Audit pass refused: %s (%s)", why, failure.getMessage());
                    return Uni.createFrom().failure(new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(409,
                            "audit-chain-regression", "The audit chain regressed", why + ". Restore the database from "
                                    + "a backup and compare it with the witnesses; an admin then acknowledges it "
                                    + "(POST /api/audit/integrity/acknowledgements)")));
                });
    }

    /**
     * One pass: pending rows (oldest first), then the standalone appends, then a key hand-over; a checkpoint
     * when asked for or due; returns the number of pending rows taken.
     */
    private Uni<Integer> chainOnce(SqlConnection tx, PassWork work) {
        List<Pending> standalone = work.standalone();
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
                                rows.forEach(r -> pending.add(admissible(new Pending(r.getLong("id"),
                                        r.getOffsetDateTime("occurred_at").toInstant(), r.getString("actor"),
                                        r.getString("action"), r.getString("subject"), r.getString("payload")))));
                                int taken = pending.size();
                                pending.sort(Comparator.comparingLong(Pending::id));
                                pending.addAll(standalone);
                                if (pending.isEmpty() && work.rotation() == null) {
                                    return (work.checkpoint() ? checkpointIfNone(tx, headSeq, headHash)
                                            : Uni.createFrom().voidItem()).replaceWith(0);
                                }
                                long t1 = System.nanoTime();
                                return append(tx, headSeq, headHash, pending, work).replaceWith(taken).invoke(() -> {
                                    if (LOG.isDebugEnabled()) {
                                        LOG.debugf("audit pass: %d entries, taking pending %d ms, hashing and inserting %d ms",
                                                pending.size(), (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
                                    }
                                });
                            });
                });
    }

    private Uni<Void> append(SqlConnection tx, long headSeq, String headHash, List<Pending> pending, PassWork work) {
        List<Tuple> tuples = new ArrayList<>(pending.size() + 1);
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
        long chained = seq;
        String chainedHash = prev;
        Rotation rotation = work.rotation();
        Uni<Optional<AuditSigner>> signer = rotation == null ? Uni.createFrom().item(Optional.empty()) : currentSigner(tx);
        return signer.chain(current -> {
            long newSeq = chained;
            String newHash = chainedHash;
            Uni<Void> registerNext = Uni.createFrom().voidItem();
            if (rotation != null) {
                if (current.isEmpty()) {
                    return Uni.createFrom().failure(new IllegalStateException(
                            "this appliance does not hold the fleet's current audit signing key: it cannot hand it over"));
                }
                Instant at = AuditHashes.truncate(Instant.now());
                newSeq++;
                String time = AuditHashes.formatTime(at);
                String payload = handOverPayload(newSeq, newHash, time, current.get(), rotation);
                String hash = AuditHashes.entryHash(newSeq, time, rotation.actor(), KEY_ROTATED, KEY_SUBJECT, payload, newHash);
                tuples.add(Tuple.from(List.of(newSeq, at.atOffset(ZoneOffset.UTC), rotation.actor(), KEY_ROTATED, KEY_SUBJECT,
                        payload, newHash, hash)));
                newHash = hash;
                long fromSeq = newSeq;
                registerNext = tx.preparedQuery("INSERT INTO audit_key (fingerprint, public_key, from_seq, created_at) "
                        + "VALUES ($1, $2, $3, $4)").execute(Tuple.of(rotation.next().fingerprint(),
                                base64(rotation.next()), fromSeq, at.atOffset(ZoneOffset.UTC)))
                        .replaceWithVoid();
            }
            long headAfter = newSeq;
            String hashAfter = newHash;
            Uni<Void> thenRegister = registerNext;
            Uni<Void> written = tx.preparedQuery("INSERT INTO audit_entry (seq, time, actor, action, subject, payload, "
                    + "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)").executeBatch(tuples)
                    .chain(() -> tx.preparedQuery("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                            .execute(Tuple.of(headAfter, hashAfter)))
                    .replaceWithVoid()
                    .chain(() -> thenRegister);
            int every = Math.max(1, config.audit().checkpointEvery());
            if (rotation != null) {
                return written.chain(() -> integrity.check(tx)).chain(regression -> regression != null
                        ? Uni.createFrom().failure(new IllegalStateException("no key hand-over on a regressed chain: " + regression))
                        : insertCheckpoint(tx, headAfter, hashAfter, rotation.next()));
            }
            if (headAfter / every > headSeq / every) {
                return written.chain(() -> signCheckpoint(tx, headAfter, hashAfter));
            }
            if (work.checkpoint()) {
                return written.chain(() -> checkpointIfNone(tx, headAfter, hashAfter));
            }
            return written;
        });
    }

    /**
     * A key hand-over is chained only by {@link #rotate}: one that arrives through the queue (which only
     * someone with the app's database login could write) is chained as what it is, a forged entry rejected,
     * with everything it said, so it neither makes every later export fail nor disappears.
     */
    private static Pending admissible(Pending p) {
        if (!KEY_ROTATED.equals(p.action()) && !KEY_SUBJECT.equals(p.subject())) {
            return p;
        }
        LOG.errorf("A queued audit record claims to be a key hand-over (action %s, subject %s, actor %s): chained as a "
                + "rejected forgery", p.action(), p.subject(), p.actor());
        java.util.Map<String, Object> payload = new java.util.TreeMap<>();
        payload.put("claimedAction", p.action());
        payload.put("claimedSubject", p.subject());
        payload.put("claimedPayload", p.payload());
        payload.put("reason", "key hand-overs are written by the sequencer only, never through audit_pending");
        return new Pending(p.id(), p.occurredAt(), p.actor(), "audit.forged-entry-rejected", "audit:log",
                CanonicalJson.write(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(payload)));
    }

    private static String base64(AuditSigner signer) {
        return java.util.Base64.getEncoder().encodeToString(signer.publicKey().getEncoded());
    }

    /** The payload of a hand-over entry at {@code seq}: the successor, and the signatures of both keys. */
    private static String handOverPayload(long seq, String prevHash, String time, AuditSigner current, Rotation rotation) {
        String newKey = base64(rotation.next());
        byte[] signed = AuditHashes.handOverSigningInput(seq, prevHash, time, current.fingerprint(),
                rotation.next().fingerprint(), newKey);
        java.util.Map<String, Object> payload = new java.util.TreeMap<>();
        payload.put("previousFingerprint", current.fingerprint());
        payload.put("newFingerprint", rotation.next().fingerprint());
        payload.put("newPublicKey", newKey);
        payload.put("handOverSignature", current.sign(signed));
        payload.put("acceptanceSignature", rotation.next().sign(signed));
        payload.put("reason", rotation.reason() == null ? "" : rotation.reason());
        return CanonicalJson.write(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(payload));
    }

    /**
     * The local key matching the fleet's current key in the registry (registering this appliance's key as
     * the genesis key of an empty registry); empty when this appliance does not hold it.
     */
    Uni<Optional<AuditSigner>> currentSigner(SqlConnection tx) {
        return tx.query("SELECT k.fingerprint, k.from_seq, e.prev_hash, e.time, e.payload FROM audit_key k "
                + "LEFT JOIN audit_entry e ON e.seq = k.from_seq AND e.action = '" + KEY_ROTATED + "' "
                + "ORDER BY k.from_seq DESC LIMIT 1").execute().chain(rows -> {
                    if (rows.rowCount() == 0) {
                        AuditSigner genesis = key.active();
                        return tx.preparedQuery("INSERT INTO audit_key (fingerprint, public_key, from_seq, created_at) "
                                + "VALUES ($1, $2, 1, now()) ON CONFLICT DO NOTHING").execute(Tuple.of(genesis.fingerprint(),
                                        base64(genesis)))
                                .replaceWith(Optional.of(genesis));
                    }
                    Row r = rows.iterator().next();
                    String registered = r.getString("fingerprint").trim();
                    AuditSigningKey.HandOver handOver = null;
                    if (r.getString("payload") != null) {
                        try {
                            handOver = new AuditSigningKey.HandOver(r.getLong("from_seq"), r.getString("prev_hash"),
                                    AuditHashes.formatTime(r.getOffsetDateTime("time").toInstant()),
                                    new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.getString("payload")));
                        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                            handOver = null;
                        }
                    }
                    Optional<AuditSigner> signer = key.signerFor(registered, handOver);
                    if (signer.isEmpty()) {
                        integrity.alarm("the fleet's current audit signing key " + registered + " is not one this appliance "
                                + "holds with a hand-over signed by its key " + key.fingerprint()
                                + ": checkpoints are not signed until its key file or token is restored");
                    }
                    return Uni.createFrom().item(signer);
                });
    }

    /**
     * A checkpoint at {@code seq} signed by the fleet's current key, when this appliance holds it and the
     * chain still holds the last head it signed (else it would sign a chain someone shortened or rewrote).
     */
    private Uni<Void> signCheckpoint(SqlConnection tx, long seq, String hash) {
        return integrity.check(tx).chain(regression -> regression != null ? Uni.createFrom().voidItem()
                : currentSigner(tx).chain(signer -> signer.isEmpty() ? Uni.createFrom().voidItem()
                        : insertCheckpoint(tx, seq, hash, signer.get())));
    }

    /** A checkpoint at the head unless the newest checkpoint is already there. */
    private Uni<Void> checkpointIfNone(SqlConnection tx, long seq, String hash) {
        // checked even when nothing is to be signed: a cut back to the newest checkpoint is a regression too
        return integrity.check(tx).chain(regression -> regression != null ? Uni.createFrom().voidItem()
                // probes of the primary key, not a scan of every checkpoint ever signed (one a minute, for years): the
                // newest at or before the head, and — counted only when there is one at all — those beyond it
                : tx.preparedQuery("SELECT coalesce((SELECT max(seq) FROM audit_checkpoint WHERE seq <= $1), 0) AS at, "
                        + "CASE WHEN coalesce((SELECT max(seq) FROM audit_checkpoint), 0) > $1 "
                        + "THEN (SELECT count(*) FROM audit_checkpoint WHERE seq > $1) ELSE 0 END AS beyond").execute(Tuple.of(seq))
                        .chain(rows -> {
                            Row r = rows.iterator().next();
                            if (r.getLong("beyond") > 0) {
                                // only a superuser with the triggers off can put one there
                                integrity.alarm(r.getLong("beyond") + " checkpoint(s) name entries beyond the head (seq "
                                        + seq + "): the chain was cut or the checkpoints forged");
                                return Uni.createFrom().voidItem();
                            }
                            return r.getLong("at") >= seq ? Uni.createFrom().voidItem() : signCheckpoint(tx, seq, hash);
                        }));
    }

    /** Signs and stores a checkpoint for the entry {@code seq} whose hash is {@code hash}, and its witness deliveries. */
    private Uni<Void> insertCheckpoint(SqlConnection tx, long seq, String hash, AuditSigner signer) {
        Instant now = AuditHashes.truncate(Instant.now());
        String time = AuditHashes.formatTime(now);
        String signature = signer.sign(AuditHashes.checkpointSigningInput(seq, hash, time));
        return tx.preparedQuery("INSERT INTO audit_checkpoint (seq, hash, time, key_fingerprint, signature) "
                + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING")
                .execute(Tuple.of(seq, hash, OffsetDateTime.ofInstant(now, ZoneOffset.UTC), signer.fingerprint(), signature))
                .chain(inserted -> {
                    if (inserted.rowCount() == 0) {
                        // this appliance signs a seq once, under the head lock: a row already there was put by someone else
                        integrity.alarm("a checkpoint for seq " + seq + " was already there before this appliance signed it");
                        return Uni.createFrom().voidItem();
                    }
                    signedInPass = new AuditIntegrity.Head(seq, hash);
                    return witnesses.enqueue(tx, seq, hash, time, signer.fingerprint(), signature);
                });
    }
}
