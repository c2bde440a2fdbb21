package io.metalgate.common;

import io.smallrye.mutiny.Uni;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Runs one task per item with a number in flight that adapts to how the peers answer (AIMD, as TCP's
 * congestion control and Netflix's concurrency-limits do): until the first overload signal (a timeout) each
 * answer in time raises the limit by one, so it doubles per round of answers (slow start, RFC 5681 §3.1);
 * after it, by about an eighth per round (at least one); an overload signal cuts it by a quarter, at most
 * once per round. BMCs
 * that share a slow network or whose management controllers are busy are thus asked at the rate they can
 * answer, instead of all at once, where re-sends become the load and most of them time out. Items whose task
 * signalled overload are asked once more after the first pass, when the pressure is off.
 *
 * <p>Results come back in the order of the items. Pure scheduling: no I/O of its own.
 */
public final class AdaptiveConcurrency {

    /** Bounds of the limit, and where it starts. */
    public record Limits(int initial, int min, int max) {

        public Limits {
            if (min < 1 || max < min) {
                throw new IllegalArgumentException("limits must satisfy 1 <= min <= max: " + min + ", " + max);
            }
            initial = Math.max(min, Math.min(max, initial));
        }
    }

    /** What a run saw: the limit it ended at, the lowest it went, how many items were asked again. */
    public record Stats(int finalLimit, int lowestLimit, int highestLimit, int retried) {
    }

    /** The results, and what the run saw. */
    public record Run<R>(List<R> results, Stats stats) {
    }

    private AdaptiveConcurrency() {
    }

    public static <T, R> Uni<Run<R>> run(List<T> items, Function<T, Uni<R>> task, Predicate<R> overloaded, Limits limits) {
        return Uni.createFrom().deferred(() -> {
            Pass<T, R> first = new Pass<>(items, task, overloaded, limits.initial(), limits);
            return Uni.createFrom().completionStage(first.start()).chain(results -> {
                List<Integer> again = new ArrayList<>();
                for (int i = 0; i < results.size(); i++) {
                    if (overloaded.test(results.get(i))) {
                        again.add(i);
                    }
                }
                if (again.isEmpty()) {
                    return Uni.createFrom().item(new Run<>(results, first.stats(0)));
                }
                // the pressure is off now: ask the ones that timed out again, starting at the limit the pass ended with
                List<T> retryItems = again.stream().map(items::get).toList();
                Pass<T, R> second = new Pass<>(retryItems, task, overloaded, Math.max(limits.min(), (int) first.limit / 2), limits);
                return Uni.createFrom().completionStage(second.start()).map(retried -> {
                    List<R> merged = new ArrayList<>(results);
                    for (int k = 0; k < again.size(); k++) {
                        merged.set(again.get(k), retried.get(k));
                    }
                    Stats s1 = first.stats(again.size());
                    return new Run<>(merged, new Stats((int) second.limit, Math.min(s1.lowestLimit(), (int) second.lowest),
                            Math.max(s1.highestLimit(), (int) second.highest), again.size()));
                });
            });
        });
    }

    /** One pass over the items. State guarded by this. */
    private static final class Pass<T, R> {
        final List<T> items;
        final Function<T, Uni<R>> task;
        final Predicate<R> overloaded;
        final Limits limits;
        final Object[] results;
        final Deque<Integer> queue = new ArrayDeque<>();
        final CompletableFuture<List<R>> done = new CompletableFuture<>();
        double limit;
        double lowest;
        double highest;
        int inFlight;
        int remaining;
        long completions;
        long lastCut = -(1L << 40); // long before the first answer (Long.MIN_VALUE would overflow the difference)
        /** Slow start until the first overload: a fleet that answers well is not asked at the initial limit for long. */
        boolean slowStart = true;

        Pass(List<T> items, Function<T, Uni<R>> task, Predicate<R> overloaded, int initial, Limits limits) {
            this.items = items;
            this.task = task;
            this.overloaded = overloaded;
            this.limits = limits;
            this.results = new Object[items.size()];
            this.limit = initial;
            this.lowest = initial;
            this.highest = initial;
            this.remaining = items.size();
            for (int i = 0; i < items.size(); i++) {
                queue.add(i);
            }
        }

        CompletableFuture<List<R>> start() {
            if (items.isEmpty()) {
                done.complete(List.of());
            } else {
                dispatch();
            }
            return done;
        }

        Stats stats(int retried) {
            synchronized (this) {
                return new Stats((int) limit, (int) lowest, (int) highest, retried);
            }
        }

        boolean dispatching;
        boolean again;

        /** Starts what the limit allows; a task that completes at once does not recurse here (a trampoline). */
        private void dispatch() {
            synchronized (this) {
                if (dispatching) {
                    again = true;
                    return;
                }
                dispatching = true;
            }
            while (true) {
                List<Integer> start = new ArrayList<>();
                synchronized (this) {
                    while (inFlight < (int) limit && !queue.isEmpty()) {
                        inFlight++;
                        start.add(queue.poll());
                    }
                }
                for (int i : start) {
                    Uni<R> u;
                    try {
                        u = task.apply(items.get(i));
                    } catch (RuntimeException e) {
                        u = Uni.createFrom().failure(e);
                    }
                    u.subscribe().with(r -> finished(i, r), f -> done.completeExceptionally(f));
                }
                synchronized (this) {
                    if (!again) {
                        dispatching = false;
                        return;
                    }
                    again = false;
                }
            }
        }

        @SuppressWarnings("unchecked")
        private void finished(int i, R r) {
            boolean last;
            synchronized (this) {
                results[i] = r;
                inFlight--;
                remaining--;
                completions++;
                if (overloaded.test(r)) {
                    // one cut per round of answers: the answers already in flight saw the same pressure
                    slowStart = false;
                    if (completions - lastCut > (long) limit) {
                        limit = Math.max(limits.min(), limit * 0.75);
                        lastCut = completions;
                    }
                } else if (slowStart) {
                    limit = Math.min(limits.max(), limit + 1);
                } else {
                    limit = Math.min(limits.max(), limit + 1.0 / limit * Math.max(1.0, limit / 8));
                }
                lowest = Math.min(lowest, limit);
                highest = Math.max(highest, limit);
                last = remaining == 0;
            }
            if (last) {
                done.complete((List<R>) Arrays.asList(results));
            } else {
                dispatch();
            }
        }
    }
}
