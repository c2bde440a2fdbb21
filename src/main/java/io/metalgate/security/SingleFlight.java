package io.metalgate.security;

import io.smallrye.mutiny.Uni;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One computation per key at a time: callers that ask for a key while its computation runs wait for that one and
 * share its outcome (item or failure). For password checks: when a remembered check expires, the requests of one
 * client that arrive together (a billing system's 100 concurrent webhooks) make one Argon2 computation, not 100 of
 * 19 MiB each.
 */
final class SingleFlight<K, V> {

    private final ConcurrentHashMap<K, CompletableFuture<V>> running = new ConcurrentHashMap<>();

    Uni<V> run(K key, Supplier<Uni<V>> computation) {
        CompletableFuture<V> mine = new CompletableFuture<>();
        CompletableFuture<V> theirs = running.putIfAbsent(key, mine);
        if (theirs != null) {
            return share(theirs);
        }
        Uni<V> work;
        try {
            work = computation.get();
        } catch (RuntimeException e) {
            work = Uni.createFrom().failure(e);
        }
        // run apart from the first caller's subscription: a caller that goes away (a client disconnecting) must
        // neither stop the computation others wait for nor leave the key taken forever
        work.subscribe().with(item -> {
            running.remove(key, mine);
            mine.complete(item);
        }, failure -> {
            running.remove(key, mine);
            mine.completeExceptionally(failure);
        });
        return share(mine);
    }

    /** A stage of the caller's own: a caller's cancellation (Mutiny cancels the stage it waits on) stays its own. */
    private static <V> Uni<V> share(CompletableFuture<V> outcome) {
        return Uni.createFrom().completionStage(outcome.thenApply(v -> v));
    }

    /** Computations running now (for tests). */
    int running() {
        return running.size();
    }
}
