package io.metalgate.integration.outbound;

import io.metalgate.lease.NoticeService;
import io.metalgate.testing.OutboundPeers;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.vertx.VertxContextSupport;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Outbound notice e-mails per second to the local SMTP server (GreenMail, in this JVM): N notices are created with the
 * relay held back, then the relay drains them. Each one counted is fanned out from the audit chain into its delivery,
 * sent over SMTP with its Message-ID, and recorded with its proof as a notice attempt and an audit entry. Run with
 * {@code bench/run.sh OutboundEmailBench}; the result goes to target/bench-results.txt.
 */
@Tag("bench")
@QuarkusTest
@TestProfile(OutboundTest.Peers.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class OutboundEmailBench {

    @Inject
    OutboxRelay relay;
    @Inject
    NoticeService notices;
    @Inject
    Pool pool;

    @Test
    void emailsPerSecond() throws Throwable {
        int n = Integer.getInteger("bench.emails", 2000);
        List<Double> rounds = new ArrayList<>();
        drain(200); // warm-up: connections, JIT
        for (int i = 0; i < Integer.getInteger("bench.rounds", 3); i++) {
            rounds.add(drain(n));
        }
        String line = String.format("%s outbound-email notices=%d concurrency=%d rounds=%s e-mails/s (best %.0f)%n", Instant.now(), n,
                16, rounds.stream().map(r -> String.format("%.0f", r)).toList(), rounds.stream().mapToDouble(d -> d).max().orElse(0));
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Creates n notices with the relay paused, then times the relay sending and recording all of them. */
    private double drain(int n) throws Throwable {
        relay.pause(true);
        Thread.sleep(500); // a scheduled round that was running ends
        long before = sent();
        UUID tenant = UUID.randomUUID();
        VertxContextSupport.subscribeAndAwait(() -> pool.preparedQuery("INSERT INTO tenant (id, name, contact_email, created_at, updated_at) "
                + "VALUES ($1, $2, $3, now(), now())").execute(Tuple.of(tenant, "bench-" + tenant, "bench-" + tenant + "@customer.test")));
        // 16 callers creating notices one after the other, each through the service (its transaction, audit entry, chaining)
        java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(16);
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(n);
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        for (int c = 0; c < 16; c++) {
            running.add(callers.submit(() -> {
                while (left.getAndDecrement() > 0) {
                    try {
                        VertxContextSupport.subscribeAndAwait(() -> notices.create(NoticeService.Kind.TERMINATION, tenant, null, null, "bench"));
                    } catch (Throwable t) {
                        throw new IllegalStateException(t);
                    }
                }
                return null;
            }));
        }
        for (var f : running) {
            f.get();
        }
        callers.shutdown();
        // let the scheduled round that may be running finish; then only this loop drives the relay
        Thread.sleep(500);
        long start = System.nanoTime();
        long deadline = start + Duration.ofMinutes(10).toNanos();
        while (sent() - before < n) {
            VertxContextSupport.subscribeAndAwait(() -> relay.runOnce());
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + (sent() - before) + " of " + n + " sent in 10 minutes");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        relay.pause(false);
        int received = OutboundPeers.mail().getReceivedMessages().length;
        System.out.printf("drained %d notices in %.2f s (GreenMail holds %d messages)%n", n, seconds, received);
        return n / seconds;
    }

    private long sent() throws Throwable {
        return VertxContextSupport.subscribeAndAwait(() -> pool.query("SELECT count(*) FROM outbound_delivery WHERE channel = 'EMAIL' "
                + "AND status = 'SENT'").execute().map(r -> r.iterator().next().getLong(0)));
    }
}
