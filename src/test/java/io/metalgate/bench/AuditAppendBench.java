package io.metalgate.bench;

import io.metalgate.evidence.AuditLog;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Audit appends per second with chaining, 16 concurrent writers, against the local PostgreSQL (fsync
 * on). Each append is a transaction of its own followed by waiting until the entry is chained, exactly
 * what an API write does. Run with {@code bench/run.sh}; the result goes to target/bench-results.txt.
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class AuditAppendBench {

    static final int WRITERS = 16;

    @Inject
    AuditLog audit;

    @Test
    void appendsPerSecondWith16Writers() throws Exception {
        run(Long.getLong("bench.warmup.seconds", 5));
        double best = 0;
        List<Double> rounds = new ArrayList<>();
        for (int i = 0; i < Integer.getInteger("bench.rounds", 3); i++) {
            double rate = run(Long.getLong("bench.seconds", 10));
            rounds.add(rate);
            best = Math.max(best, rate);
        }
        String line = String.format("%s audit-append writers=%d rounds=%s appends/s (best %.0f)%n", Instant.now(), WRITERS,
                rounds.stream().map(r -> String.format("%.0f", r)).toList(), best);
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * 16 writers, each appending one entry after the other (the next only once the previous is chained),
     * as asynchronous loops, the way concurrent requests run on the event loop.
     */
    private double run(long seconds) throws Exception {
        LongAdder done = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        List<java.util.concurrent.CompletableFuture<Void>> writers = new ArrayList<>();
        long start = System.nanoTime();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            java.util.concurrent.atomic.AtomicLong i = new java.util.concurrent.atomic.AtomicLong();
            writers.add(io.smallrye.mutiny.Multi.createBy().repeating()
                    .uni(() -> {
                        long n = i.getAndIncrement();
                        return audit.append("bench-" + writer, "bench.appended", "machine:bench-" + (n % 1000),
                                Map.of("writer", writer, "i", n, "note", "benchmark entry")).invoke(done::increment)
                                .replaceWith(n); // a non-null item, so that until() sees each round
                    })
                    .until(x -> stop.get())
                    .collect().last().replaceWithVoid()
                    .subscribeAsCompletionStage());
        }
        Thread.sleep(seconds * 1000);
        stop.set(true);
        for (var f : writers) {
            f.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return done.sum() / elapsed;
    }
}
