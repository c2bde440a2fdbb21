package io.metalgate.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AdaptiveConcurrencyTest {

    /** A peer that answers in time up to 20 in flight and times out above: the limit settles near it. */
    @Test
    void theLimitFollowsWhatThePeersCanTakeAndTimedOutItemsAreAskedAgain() {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<Integer> items = IntStream.range(0, 2000).boxed().toList();
        var run = AdaptiveConcurrency.run(items, i -> {
            int now = inFlight.incrementAndGet();
            most.accumulateAndGet(now, Math::max);
            boolean overloaded = now > 20;
            return Uni.createFrom().item(overloaded ? -i - 1 : i).onItem().delayIt().by(Duration.ofMillis(2))
                    .invoke(() -> inFlight.decrementAndGet());
        }, r -> r < 0, new AdaptiveConcurrency.Limits(64, 4, 256)).await().atMost(Duration.ofSeconds(60));
        assertEquals(items.size(), run.results().size());
        assertTrue(run.stats().lowestLimit() < 64, "cut under overload: " + run.stats());
        assertTrue(run.stats().retried() > 0, run.stats().toString());
        long stillOverloaded = run.results().stream().filter(r -> r < 0).count();
        assertTrue(stillOverloaded < run.stats().retried() / 2 + 1, "the retry pass answered most: " + stillOverloaded + " " + run.stats());
        for (int i = 0; i < items.size(); i++) {
            int r = run.results().get(i);
            assertTrue(r == i || r == -i - 1, "results in the order of the items");
        }
    }

    @Test
    void itGrowsWhileEverythingAnswersAndCopesWithImmediateTasks() {
        var run = AdaptiveConcurrency.run(IntStream.range(0, 100_000).boxed().toList(), i -> Uni.createFrom().item(i), r -> false,
                new AdaptiveConcurrency.Limits(8, 4, 256)).await().atMost(Duration.ofSeconds(60));
        assertEquals(100_000, run.results().size());
        assertEquals(256, run.stats().finalLimit());
        assertEquals(0, run.stats().retried());
    }

    /**
     * Slow start: a fleet that answers well is not asked at the initial limit for long (additive increase alone
     * would take about 30 rounds to go from 4 to 64; this doubles per round).
     */
    @Test
    void untilTheFirstTimeoutTheLimitDoublesPerRound() {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        var run = AdaptiveConcurrency.run(IntStream.range(0, 300).boxed().toList(), i -> {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            return Uni.createFrom().item(i).onItem().delayIt().by(Duration.ofMillis(3)).invoke(() -> inFlight.decrementAndGet());
        }, r -> false, new AdaptiveConcurrency.Limits(4, 4, 256)).await().atMost(Duration.ofSeconds(60));
        assertTrue(run.stats().highestLimit() >= 128, "300 answers in time from 4: " + run.stats());
        assertTrue(most.get() > 64, "in flight at most " + most.get());
        // after an overload signal it grows additively again: the same run with one timeout at the start stays low
        var cut = AdaptiveConcurrency.run(IntStream.range(0, 300).boxed().toList(), i -> Uni.createFrom().item(i).onItem().delayIt()
                .by(Duration.ofMillis(3)), r -> r == 0, new AdaptiveConcurrency.Limits(4, 4, 256)).await().atMost(Duration.ofSeconds(60));
        assertTrue(cut.stats().highestLimit() < 64, "additive after the first timeout: " + cut.stats());
    }
}
