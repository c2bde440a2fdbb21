package io.metalgate.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.gate.Facts.ApprovalFact;
import io.metalgate.gate.Facts.AttemptFact;
import io.metalgate.gate.Facts.BulkFacts;
import io.metalgate.gate.Facts.CertificateFact;
import io.metalgate.gate.Facts.HoldFact;
import io.metalgate.gate.Facts.LeaseFacts;
import io.metalgate.gate.Facts.MachineFacts;
import io.metalgate.gate.Facts.NoticeFact;
import io.metalgate.gate.Facts.Outcome;
import io.metalgate.gate.Facts.RequestFacts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property test: random sequences of lease events, holds placed and released, notice attempts,
 * approvals, clock advances and action requests (seeded, so any failure replays), with the gate's
 * invariants checked after every request by predicates written independently of {@link Gate}.
 */
class GateInvariantsTest {

    private static final List<String> PEOPLE = List.of("alice", "bob", "carol", "dave");
    private static final List<String> CHANNELS = List.of("email", "webhook", "ticket");
    private static final Policy POLICY = Policy.defaults();

    /** The world one sequence plays in. */
    private static final class World {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        String leaseState = "PENDING";
        Instant terminatedAt;
        String machineState = "ACTIVE";
        final List<HoldFact> holds = new ArrayList<>();
        final List<AttemptFact> attempts = new ArrayList<>();
        final List<ApprovalFact> approvals = new ArrayList<>();
        Set<String> disks = Set.of("S1", "S2", "S3");
        Optional<CertificateFact> certificate = Optional.empty();
        int holdIds;
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = { 1, 2, 3, 4, 5, 6, 7, 8, 2013, 630 })
    void invariantsHoldOverRandomHistories(long seed) {
        Random r = new Random(seed);
        int allowedErases = 0;
        for (int sequence = 0; sequence < 300; sequence++) {
            World w = new World();
            for (int step = 0; step < 60; step++) {
                switch (r.nextInt(9)) {
                    case 0 -> leaseEvent(w, r);
                    case 1 -> w.holds.add(new HoldFact("h" + w.holdIds++, List.of("LEGAL_HOLD", "PRESERVATION_REQUEST", "DISPUTE")
                            .get(r.nextInt(3)), w.now));
                    case 2 -> {
                        if (!w.holds.isEmpty()) {
                            w.holds.remove(r.nextInt(w.holds.size()));
                        }
                    }
                    // now and then an attempt a person typed in and no one confirmed: a claim, never proof
                    case 3 -> w.attempts.add(new AttemptFact(CHANNELS.get(r.nextInt(3)), w.now,
                            Outcome.values()[r.nextInt(Outcome.values().length)], r.nextInt(3) != 0));
                    case 4 -> w.approvals.add(new ApprovalFact(PEOPLE.get(r.nextInt(4)),
                            r.nextBoolean() ? Set.of("approver", "viewer") : Set.of("operator", "viewer"), w.now));
                    case 5 -> w.now = w.now.plus(Duration.ofDays(r.nextInt(25)));
                    case 6 -> {
                        w.machineState = List.of("RETAINED", "ERASED", "ACTIVE", "AVAILABLE", "ERASE_FAILED", "ERASING").get(r.nextInt(6));
                        if (w.machineState.equals("ERASED") && r.nextBoolean()) {
                            Set<String> certified = new HashSet<>(w.disks);
                            if (r.nextBoolean()) {
                                certified.remove("S" + (1 + r.nextInt(3)));
                            }
                            w.certificate = Optional.of(new CertificateFact(certified, r.nextInt(4) > 0));
                        }
                    }
                    default -> {
                        Action action = Action.values()[r.nextInt(Action.values().length)];
                        Facts facts = facts(w, r);
                        Decision d = Gate.decide(action, facts, POLICY, w.now);
                        check(action, facts, w.now, d);
                        if (action == Action.ERASE && d.allowed()) {
                            allowedErases++;
                        }
                    }
                }
            }
        }
        // The generator must reach allowed erases too, or the invariants would hold vacuously.
        assertTrue(allowedErases > 0, "no erase was ever allowed: the generator explores too little");
    }

    private static void leaseEvent(World w, Random r) {
        String next = switch (w.leaseState) {
            case "PENDING" -> "ACTIVE";
            case "ACTIVE" -> r.nextBoolean() ? "OVERDUE" : "TERMINATED";
            case "OVERDUE" -> List.of("SUSPENDED", "ACTIVE", "TERMINATED").get(r.nextInt(3));
            case "SUSPENDED" -> r.nextBoolean() ? "ACTIVE" : "TERMINATED";
            case "TERMINATED" -> "CLOSED";
            default -> w.leaseState;
        };
        if (next.equals("TERMINATED")) {
            w.terminatedAt = w.now;
            w.machineState = "RETAINED";
        }
        w.leaseState = next;
    }

    private static Facts facts(World w, Random r) {
        int batch = 1 + r.nextInt(20);
        String requester = PEOPLE.get(r.nextInt(4));
        // an emergency now and then, by anyone, with or without a reason; as the conductor passes it, the person acting in
        // an emergency is among the approvals with the roles they hold (the requester, often: an approver alone)
        Optional<String> reason = List.of(Optional.<String>empty(), Optional.of(" "), Optional.of("rescue")).get(r.nextInt(3));
        Optional<String> emergencyApprover = Optional.empty();
        List<ApprovalFact> approvals = w.approvals;
        if (r.nextInt(3) == 0) {
            String acting = r.nextBoolean() ? requester : PEOPLE.get(r.nextInt(4));
            emergencyApprover = Optional.of(acting);
            approvals = new ArrayList<>(w.approvals);
            approvals.add(new ApprovalFact(acting, r.nextBoolean() ? Set.of("approver") : Set.of("operator"), w.now));
        }
        return new Facts(new MachineFacts("m", Facts.MachineState.valueOf(w.machineState), true, w.disks, w.certificate),
                Optional.of(new LeaseFacts("l", "t", Facts.LeaseState.valueOf(w.leaseState), Optional.ofNullable(w.terminatedAt))), w.holds,
                List.of(new NoticeFact("n", Gate.TERMINATION_NOTICE, w.attempts)),
                new RequestFacts(requester, r.nextInt(5) == 0 ? Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", r.nextBoolean() ? Optional.of(PEOPLE.get(r.nextInt(4))) : Optional.empty())) : Optional.empty(), reason, emergencyApprover), approvals,
                new BulkFacts(batch, batch, 40));
    }

    /** The invariants, stated from the domain rules without calling into the gate. */
    private static void check(Action action, Facts f, Instant now, Decision d) {
        assertEquals(d.allowed(), d.reasons().isEmpty(), "allowed exactly when there is no reason");
        assertEquals(d, Gate.decide(action, f, POLICY, now), "pure: the same facts give the same decision");
        if (!d.allowed()) {
            return;
        }
        switch (action) {
            case ERASE -> {
                assertTrue(f.holds().isEmpty(), "erase allowed under a hold");
                var lease = f.lease().orElseThrow();
                assertTrue(lease.state() == Facts.LeaseState.TERMINATED || lease.state() == Facts.LeaseState.CLOSED, "erase of a live lease");
                assertTrue(!lease.terminatedAt().orElseThrow().plus(Duration.ofDays(30)).isAfter(now), "erase before retention");
                assertTrue(noticeProven(f, now), "erase without proof of notice or escalation");
                List<String> approvers = f.approvals().stream().filter(a -> a.roles().contains("approver"))
                        .map(ApprovalFact::approver).filter(a -> !a.equals(f.request().requester())).distinct().toList();
                assertTrue(!approvers.isEmpty(), "erase without a second person");
                if (f.bulk().machinesInWindow() > 10) {
                    assertTrue(approvers.size() >= 2, "bulk erase without a second approver");
                }
            }
            case REASSIGN -> {
                assertTrue(f.holds().isEmpty(), "reassign under a hold");
                var cert = f.machine().certificate().orElseThrow(() -> new AssertionError("reassign without certificate"));
                assertTrue(cert.valid() && cert.diskSerials().containsAll(f.machine().diskSerials()),
                        "reassign without a valid certificate of every disk");
            }
            case POWER_OFF -> {
                String s = f.lease().orElseThrow().state().name();
                assertTrue(!s.equals("ACTIVE") || tenantConfirmed(f) || approverEmergency(f),
                        "power-off of an active lease without a confirmed tenant request or an approver's emergency with a reason");
            }
            case POWER_CYCLE -> {
                String s = f.lease().orElseThrow().state().name();
                assertTrue(!s.equals("ACTIVE") || tenantConfirmed(f) || approverEmergency(f),
                        "cycle of an active lease without a confirmed tenant request or an approver's emergency with a reason");
                assertTrue(f.machine().state() != Facts.MachineState.ERASING, "cycle in the middle of an erase");
            }
            case BOOT_EXTERNAL -> {
                // the generated machines all hold a tenant's data
                assertTrue(f.holds().isEmpty(), "a foreign medium booted under a hold");
                String lease = f.lease().orElseThrow().state().name();
                // carried out by an approver (acting in an emergency, with a reason) who is not the one who asked
                boolean rescue = approverEmergency(f) && !lease.equals("TERMINATED") && !lease.equals("CLOSED")
                        && !f.request().emergencyApprover().orElseThrow().equals(f.request().requester());
                assertTrue(tenantConfirmed(f) || rescue, "a foreign medium booted on a tenant's data without its confirmed request or a "
                        + "two-person rescue of a running tenant");
            }
            case ERASE_CONTINUE -> {
                assertTrue(f.holds().isEmpty(), "an erase went on under a hold");
                assertEquals(Facts.MachineState.ERASING, f.machine().state());
                var lease = f.lease().orElseThrow();
                assertTrue(lease.state() == Facts.LeaseState.TERMINATED || lease.state() == Facts.LeaseState.CLOSED, "erase of a live lease");
                assertTrue(!lease.terminatedAt().orElseThrow().plus(Duration.ofDays(30)).isAfter(now), "erase before retention");
                assertTrue(noticeProven(f, now), "erase without proof of notice or escalation");
            }
            case POWER_ON, BOOT_LOCAL -> assertTrue(f.machine().state() != Facts.MachineState.ERASING, action + " in the middle of an erase");
            default -> throw new AssertionError(action);
        }
    }

    private static boolean tenantConfirmed(Facts f) {
        return f.request().tenantRequest().filter(t -> t.confirmedBy().isPresent() && !t.confirmedBy().get().equals(t.recordedBy())).isPresent();
    }

    private static boolean approverEmergency(Facts f) {
        return f.request().emergencyReason().filter(x -> !x.isBlank()).isPresent() && f.request().emergencyApprover()
                .filter(e -> f.approvals().stream().anyMatch(a -> a.approver().equals(e) && a.roles().contains("approver"))).isPresent();
    }

    private static boolean noticeProven(Facts f, Instant now) {
        List<AttemptFact> all = f.notices().stream().flatMap(n -> n.attempts().stream()).filter(AttemptFact::proven).toList();
        boolean anyDelivery = all.stream().anyMatch(a -> a.outcome() == Outcome.DELIVERED || a.outcome() == Outcome.ACKNOWLEDGED);
        if (anyDelivery) {
            return all.stream().anyMatch(a -> (a.outcome() == Outcome.DELIVERED || a.outcome() == Outcome.ACKNOWLEDGED)
                    && !a.at().plus(Duration.ofDays(14)).isAfter(now));
        }
        long channels = all.stream().map(AttemptFact::channel).distinct().count();
        return all.size() >= 3 && channels >= 2
                && all.stream().anyMatch(a -> !a.at().plus(Duration.ofDays(30)).isAfter(now));
    }
}
