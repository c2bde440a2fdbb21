package io.metalgate.integration;

import io.metalgate.common.MetalgateConfig;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Group commit for the intake route: plain lease events that arrive one per message (a webhook, a single HTTP
 * request, an MQTT message) while a batch is being written wait and are settled together by {@link BatchIntake} in
 * the next one — one transaction for all of them instead of two each. An event alone waits for nothing: with no
 * batch in flight it is written at once, in a batch of one.
 *
 * <p>It changes nothing an event's sender can see: the same rules decide (the batch is the route's rules, set-based),
 * and whatever a batch does not settle — not a plain lease event (holds, notes, preservation-worded events), a
 * conflicting copy, every event of a batch PostgreSQL refused or that took longer than {@link #DEADLINE} — goes on
 * through the route one by one, exactly as before (its dead letters, its error handling). A batch holds one actor's
 * events only: the audit names who sent each.
 *
 * <p>Why two batches at once: while one waits for PostgreSQL (its commit's fsync), the other is being prepared; more
 * only queue on two cores. Events of one lease in two batches at once are ordered by the leases' row locks, as two
 * concurrent requests always were.
 *
 * <p>Threads: the route's callers wait for their exchange on worker threads (an HTTP request) or their consumer's
 * thread. An event a batch left goes on through the route's blocking idempotency lookup on a thread of this class's
 * own ({@link #continuation()}), never on the event loop that completed the batch (the lookup refuses it) and never
 * on the worker pool whose threads may all be callers waiting for exactly these continuations.
 */
@ApplicationScoped
class GroupCommit {

    private static final Logger LOG = Logger.getLogger(GroupCommit.class);

    /** The most events one batch takes (a larger queue is written in several). */
    static final int MAX_BATCH = 500;
    /** Batches written at once. */
    static final int IN_FLIGHT = 2;
    /** Events waiting at most; beyond, an event goes through the route alone (the route's own pace is the back-pressure). */
    static final int MAX_WAITING = 10_000;
    /**
     * A batch not done after this (a row lock held elsewhere, a connection that hangs) gives its events to the route and
     * its slot to the next batch. Should it still commit, the route finds each event stored and answers it as a repeat.
     */
    static final Duration DEADLINE = Duration.ofSeconds(30);

    @Inject
    BatchIntake batches;
    @Inject
    MetalgateConfig config;
    @Inject
    MeterRegistry registry;

    private DistributionSummary settledPerBatch;

    /** An event waiting for its batch, and where its answer goes (empty: left to the route). */
    private record Waiting(LeaseEvent event, String actor, CompletableFuture<Optional<IntakeResult>> answer) {
    }

    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    private int inFlight;

    private final ExecutorService continuation = Executors.newFixedThreadPool(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()),
            new java.util.concurrent.ThreadFactory() {
                private final AtomicInteger n = new AtomicInteger();

                @Override
                public Thread newThread(Runnable r) {
                    Thread t = new Thread(r, "metalgate-intake-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }
            });

    @PostConstruct
    void meters() {
        settledPerBatch = DistributionSummary.builder("metalgate.intake.group.commit.events")
                .description("Lease events settled in one transaction by the intake's group commit (what a batch left is not counted)")
                .register(registry);
    }

    void onStop(@Observes ShutdownEvent e) {
        continuation.shutdownNow();
    }

    /** Where the route goes on with an event a batch left (a thread that may block on the idempotency lookup). */
    ExecutorService continuation() {
        return continuation;
    }

    /** Whether this event is offered to a batch: group commit on, a plain lease event, not left by a batch before. */
    boolean offered(LeaseEvent event, boolean alone) {
        return config.integrations().groupCommit() && !alone && BatchIntake.batchable(event);
    }

    /**
     * Settles {@code event} (sent by {@code actor}) with whatever else is waiting: its result, or empty when the batch
     * left it to the route (or too many wait already). Completes exceptionally only when the caller must stop.
     */
    CompletableFuture<Optional<IntakeResult>> settle(LeaseEvent event, String actor) {
        CompletableFuture<Optional<IntakeResult>> answer = new CompletableFuture<>();
        List<Waiting> next;
        synchronized (this) {
            if (queue.size() >= MAX_WAITING) {
                answer.complete(Optional.empty());
                return answer;
            }
            queue.add(new Waiting(event, actor, answer));
            next = inFlight < IN_FLIGHT ? take() : null;
        }
        if (next != null) {
            write(next);
        }
        return answer;
    }

    /** The oldest waiting event's actor's waiting events, in arrival order, up to {@link #MAX_BATCH}; counts it in flight. */
    private List<Waiting> take() {
        String actor = queue.peek().actor();
        List<Waiting> batch = new ArrayList<>();
        for (Iterator<Waiting> it = queue.iterator(); it.hasNext() && batch.size() < MAX_BATCH;) {
            Waiting w = it.next();
            if (w.actor().equals(actor)) {
                batch.add(w);
                it.remove();
            }
        }
        inFlight++;
        return batch;
    }

    private void write(List<Waiting> batch) {
        List<LeaseEvent> events = new ArrayList<>(batch.size());
        batch.forEach(w -> events.add(w.event()));
        Uni<BatchIntake.Outcome> written;
        try {
            written = batches.processOrLeave(events, batch.get(0).actor());
        } catch (RuntimeException e) {
            written = Uni.createFrom().failure(e);
        }
        written.ifNoItem().after(DEADLINE).recoverWithUni(() -> {
            LOG.warnf("a batch of %d lease events took longer than %s; each goes through the intake route", batch.size(), DEADLINE);
            return Uni.createFrom().item(new BatchIntake.Outcome(java.util.Map.of(), List.of()));
        }).subscribe().with(outcome -> {
            int settled = 0;
            for (int i = 0; i < batch.size(); i++) {
                IntakeResult r = outcome.settled().get(i);
                settled += r == null ? 0 : 1;
                batch.get(i).answer().complete(Optional.ofNullable(r));
            }
            if (settled > 0) {
                settledPerBatch.record(settled);
            }
            next();
        }, failure -> {
            batch.forEach(w -> w.answer().completeExceptionally(failure));
            next();
        });
    }

    /** A batch is done: the next one, if events wait. */
    private void next() {
        List<Waiting> next;
        synchronized (this) {
            inFlight--;
            next = queue.isEmpty() ? null : take();
        }
        if (next != null) {
            write(next);
        }
    }
}
