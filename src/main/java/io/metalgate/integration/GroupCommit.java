package io.metalgate.integration;

import io.metalgate.common.MetalgateConfig;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Group commit for the intake route: plain lease events that arrive one per message (a webhook, a single HTTP
 * request, an MQTT message) while a batch is being written wait and are settled together by {@link BatchIntake} in
 * the next one — one transaction for all of them instead of two each. An event alone waits for nothing: with no
 * batch in flight it is written at once, in a batch of one.
 *
 * <p>It changes nothing an event's sender can see: the same rules decide (the batch is the route's rules, set-based),
 * and whatever a batch does not settle — not a plain lease event (holds, notes, preservation-worded events), a
 * conflicting copy, or every event of a batch PostgreSQL refused — goes on through the route one by one, exactly as
 * before (its dead letters, its error handling). A batch holds one actor's events only: the audit names who sent each.
 *
 * <p>Why two batches at once: while one waits for PostgreSQL (its commit's fsync), the other is being prepared; more
 * only queue on two cores. Events of one lease in two batches at once are ordered by the leases' row locks, as two
 * concurrent requests always were.
 */
@ApplicationScoped
class GroupCommit {

    /** The most events one batch takes (a larger queue is written in several). */
    static final int MAX_BATCH = 500;
    /** Batches written at once. */
    static final int IN_FLIGHT = 2;

    @Inject
    BatchIntake batches;
    @Inject
    MetalgateConfig config;
    @Inject
    MeterRegistry registry;

    private DistributionSummary sizes;

    /** An event waiting for its batch, and where its answer goes (empty: left to the route). */
    private record Waiting(LeaseEvent event, String actor, CompletableFuture<Optional<IntakeResult>> answer) {
    }

    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    private int inFlight;

    @PostConstruct
    void meters() {
        sizes = DistributionSummary.builder("metalgate.intake.group.commit.events")
                .description("Lease events settled together in one transaction by the intake's group commit").register(registry);
    }

    /** Whether events go through group commit at all ({@code metalgate.integrations.group-commit}). */
    boolean enabled() {
        return config.integrations().groupCommit();
    }

    /**
     * Settles {@code event} (sent by {@code actor}) with whatever else is waiting: its result, or empty when the batch
     * left it to the route. Fails only when the caller must stop (never for a refused batch: then it is left).
     */
    Uni<Optional<IntakeResult>> settle(LeaseEvent event, String actor) {
        if (!BatchIntake.batchable(event)) {
            return Uni.createFrom().item(Optional.empty());
        }
        CompletableFuture<Optional<IntakeResult>> answer = new CompletableFuture<>();
        List<Waiting> next;
        synchronized (this) {
            queue.add(new Waiting(event, actor, answer));
            next = inFlight < IN_FLIGHT ? take() : null;
        }
        if (next != null) {
            write(next);
        }
        // an event left to the route goes on to its blocking idempotency lookup: on a worker thread, not on the event
        // loop that completed the batch
        return Uni.createFrom().completionStage(answer).onItem().transformToUni(r -> r.isPresent() ? Uni.createFrom().item(r)
                : Uni.createFrom().item(r).emitOn(io.smallrye.mutiny.infrastructure.Infrastructure.getDefaultWorkerPool()));
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
        sizes.record(batch.size());
        Uni<BatchIntake.Outcome> written;
        try {
            written = batches.processOrLeave(events, batch.get(0).actor());
        } catch (RuntimeException e) {
            written = Uni.createFrom().failure(e);
        }
        written.subscribe().with(outcome -> {
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).answer().complete(Optional.ofNullable(outcome.settled().get(i)));
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
