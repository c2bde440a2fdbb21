package io.metalgate.gate;

import io.metalgate.gate.Facts.ApprovalFact;
import io.metalgate.gate.Facts.AttemptFact;
import io.metalgate.gate.Facts.BulkFacts;
import io.metalgate.gate.Facts.CertificateFact;
import io.metalgate.gate.Facts.HoldFact;
import io.metalgate.gate.Facts.LeaseFacts;
import io.metalgate.gate.Facts.MachineFacts;
import io.metalgate.gate.Facts.NoticeFact;
import io.metalgate.gate.Facts.RequestFacts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Facts for tests: by default a machine whose erase is allowed; each method changes one thing. */
final class FactsBuilder {

    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    String state = "RETAINED";
    boolean leasedSinceLastErase = true;
    Set<String> disks = Set.of("S1", "S2");
    Optional<CertificateFact> certificate = Optional.empty();
    Optional<LeaseFacts> lease = Optional.of(new LeaseFacts("lease-1", "tenant-1", Facts.LeaseState.TERMINATED, Optional.of(days(-40))));
    List<HoldFact> holds = new ArrayList<>();
    List<AttemptFact> attempts = new ArrayList<>(List.of(new AttemptFact("email", days(-20), Facts.Outcome.DELIVERED)));
    String requester = "alice";
    Optional<Facts.TenantRequestFact> tenantRequest = Optional.empty();
    Optional<String> emergencyReason = Optional.empty();
    Optional<String> emergencyApprover = Optional.empty();
    List<ApprovalFact> approvals = new ArrayList<>(List.of(new ApprovalFact("bob", Set.of("approver", "viewer"), days(-1))));
    BulkFacts bulk = BulkFacts.single();

    static Instant days(long d) {
        return NOW.plus(Duration.ofDays(d));
    }

    FactsBuilder lease(String leaseState, Instant terminatedAt) {
        lease = Optional.of(new LeaseFacts("lease-1", "tenant-1", Facts.LeaseState.valueOf(leaseState), Optional.ofNullable(terminatedAt)));
        return this;
    }

    FactsBuilder hold(String kind) {
        holds.add(new HoldFact("hold-" + holds.size(), kind, days(-2)));
        return this;
    }

    FactsBuilder attempts(AttemptFact... a) {
        attempts = new ArrayList<>(List.of(a));
        return this;
    }

    FactsBuilder approvals(ApprovalFact... a) {
        approvals = new ArrayList<>(List.of(a));
        return this;
    }

    FactsBuilder erased(Set<String> certified, boolean valid) {
        state = "ERASED";
        certificate = Optional.of(new CertificateFact(certified, valid));
        return this;
    }

    Facts build() {
        return new Facts(new MachineFacts("m-1", Facts.MachineState.valueOf(state), leasedSinceLastErase, disks, certificate), lease, holds,
                List.of(new NoticeFact("n-1", Gate.TERMINATION_NOTICE, attempts)),
                new RequestFacts(requester, tenantRequest, emergencyReason, emergencyApprover), approvals, bulk);
    }

    Decision decide(Action action) {
        return Gate.decide(action, build(), Policy.defaults(), NOW);
    }
}
