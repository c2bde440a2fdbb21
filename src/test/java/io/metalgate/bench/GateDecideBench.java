package io.metalgate.bench;

import io.metalgate.gate.Action;
import io.metalgate.gate.Decision;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Facts.ApprovalFact;
import io.metalgate.gate.Facts.AttemptFact;
import io.metalgate.gate.Facts.BulkFacts;
import io.metalgate.gate.Facts.HoldFact;
import io.metalgate.gate.Facts.LeaseFacts;
import io.metalgate.gate.Facts.MachineFacts;
import io.metalgate.gate.Facts.NoticeFact;
import io.metalgate.gate.Facts.Outcome;
import io.metalgate.gate.Facts.RequestFacts;
import io.metalgate.gate.Gate;
import io.metalgate.gate.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The pure part of a bulk erase plan: {@code Gate.decide} over 60,000 machines of 2,000 tenants (facts
 * already in memory; loading them from PostgreSQL is not part of this figure), and the latency of a
 * single decision. Targets: < 200 ms for the 60,000; p99 < 1 ms for one.
 */
@Tag("bench")
class GateDecideBench {

    @Test
    void bulkPlanDecisionsAndSingleDecisionLatency() throws Exception {
        Instant now = Instant.parse("2026-11-23T12:00:00Z");
        Random r = new Random(60000);
        List<Facts> fleet = new ArrayList<>(60_000);
        for (int i = 0; i < 60_000; i++) {
            int tenant = i % 2000;
            List<HoldFact> holds = r.nextInt(20) == 0 ? List.of(new HoldFact("h" + i, "PRESERVATION_REQUEST", now.minus(Duration.ofDays(3))))
                    : List.of();
            List<AttemptFact> attempts = List.of(new AttemptFact("email", now.minus(Duration.ofDays(40)), Outcome.BOUNCED),
                    new AttemptFact("ticket", now.minus(Duration.ofDays(35)), r.nextBoolean() ? Outcome.DELIVERED : Outcome.SENT),
                    new AttemptFact("webhook", now.minus(Duration.ofDays(31)), Outcome.SENT));
            fleet.add(new Facts(new MachineFacts("m" + i, io.metalgate.gate.Facts.MachineState.RETAINED, true, Set.of("S" + i + "a", "S" + i + "b"), Optional.empty()),
                    Optional.of(new LeaseFacts("l" + tenant, "t" + tenant, io.metalgate.gate.Facts.LeaseState.TERMINATED, Optional.of(now.minus(Duration.ofDays(20 + r.nextInt(30)))))),
                    holds, List.of(new NoticeFact("n" + tenant, "TERMINATION", attempts)),
                    new RequestFacts("alice", Optional.empty(), Optional.empty(), Optional.empty()),
                    List.of(new ApprovalFact("bob", Set.of("approver"), now.minus(Duration.ofHours(2)))),
                    new BulkFacts(60_000, 30, 30)));
        }
        Policy policy = Policy.defaults();
        long allowed = 0;
        List<Double> bulkMs = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            long t0 = System.nanoTime();
            allowed = 0;
            for (Facts f : fleet) {
                if (Gate.decide(Action.ERASE, f, policy, now).allowed()) {
                    allowed++;
                }
            }
            bulkMs.add((System.nanoTime() - t0) / 1e6);
        }
        long[] single = new long[200_000];
        for (int i = 0; i < single.length; i++) {
            Facts f = fleet.get(i % fleet.size());
            long t0 = System.nanoTime();
            Decision d = Gate.decide(Action.ERASE, f, policy, now);
            single[i] = System.nanoTime() - t0;
            if (d.reasons().size() > 99) {
                throw new AssertionError();
            }
        }
        Arrays.sort(single);
        String line = String.format("%s gate-decide bulk-60000-ms=%s allowed=%d single-p50-us=%.1f p99-us=%.1f p999-us=%.1f%n",
                Instant.now(), bulkMs.stream().map(m -> String.format("%.0f", m)).toList(), allowed,
                single[single.length / 2] / 1e3, single[(int) (single.length * 0.99)] / 1e3, single[(int) (single.length * 0.999)] / 1e3);
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
