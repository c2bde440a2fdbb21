package io.metalgate.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Password checks under a crowd: the same credentials arriving together are checked once ({@link SingleFlight}), and
 * however many different ones arrive, at most {@link PasswordHasher#CONCURRENT} Argon2 computations (19 MiB each) run
 * at once.
 */
class PasswordChecksTest {

    @Test
    void callersOfOneKeyShareOneComputationAndItsOutcome() {
        SingleFlight<String, String> flights = new SingleFlight<>();
        AtomicInteger computed = new AtomicInteger();
        CompletableFuture<String> gate = new CompletableFuture<>();
        List<Uni<String>> callers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            callers.add(flights.run("alice", () -> {
                computed.incrementAndGet();
                return Uni.createFrom().completionStage(gate);
            }));
        }
        assertEquals(1, computed.get(), "one computation for ten callers");
        assertEquals(1, flights.running());
        gate.complete("roles");
        for (Uni<String> u : callers) {
            assertEquals("roles", u.await().atMost(Duration.ofSeconds(5)));
        }
        assertEquals(0, flights.running(), "the key is free again");
        // a failure is shared too, and the next caller computes afresh
        CompletableFuture<String> failing = new CompletableFuture<>();
        Uni<String> a = flights.run("bob", () -> Uni.createFrom().completionStage(failing));
        Uni<String> b = flights.run("bob", () -> Uni.createFrom().item("never"));
        failing.completeExceptionally(new IllegalStateException("invalid credentials"));
        for (Uni<String> u : List.of(a, b)) {
            assertEquals("invalid credentials", u.onFailure().recoverWithItem(Throwable::getMessage).await().atMost(Duration.ofSeconds(5)));
        }
        assertEquals("fresh", flights.run("bob", () -> Uni.createFrom().item("fresh")).await().atMost(Duration.ofSeconds(5)));
        // a caller that goes away does not strand the others
        CompletableFuture<String> slow = new CompletableFuture<>();
        flights.run("carol", () -> Uni.createFrom().completionStage(slow)).subscribe().with(x -> {
        }).cancel();
        Uni<String> waiting = flights.run("carol", () -> Uni.createFrom().item("never"));
        slow.complete("done");
        assertEquals("done", waiting.await().atMost(Duration.ofSeconds(5)));
        assertEquals(0, flights.running());
    }

    @Test
    void argon2ComputationsAtOnceAreBounded() throws Exception {
        String hash = PasswordHasher.hash("correct horse");
        int threads = PasswordHasher.CONCURRENT * 3;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Boolean>> checks = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String guess = i % 2 == 0 ? "correct horse" : "wrong " + i;
                checks.add(pool.submit(() -> PasswordHasher.verify(guess, hash)));
            }
            for (int i = 0; i < threads; i++) {
                assertEquals(i % 2 == 0, checks.get(i).get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(PasswordHasher.peak() <= PasswordHasher.CONCURRENT, "peak " + PasswordHasher.peak() + " > " + PasswordHasher.CONCURRENT);
        assertTrue(PasswordHasher.peak() >= 1);
    }
}
