package io.metalgate.gate;

import static io.metalgate.gate.FactsBuilder.days;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.gate.Decision.Code;
import io.metalgate.gate.Facts.ApprovalFact;
import io.metalgate.gate.Facts.AttemptFact;
import io.metalgate.gate.Facts.Outcome;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** One case per rule of domain.md "The gate": the change that trips it, and the reason it must give. */
class GateRulesTest {

    record Case(String name, Action action, Consumer<FactsBuilder> change, List<Code> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        ApprovalFact bob = new ApprovalFact("bob", Set.of("approver"), days(-1));
        ApprovalFact carol = new ApprovalFact("carol", Set.of("approver"), days(-1));
        return Stream.of(
                new Case("erase: the baseline is allowed", Action.ERASE, b -> { }, List.of()),
                new Case("erase: lease still ACTIVE", Action.ERASE, b -> b.lease("ACTIVE", null), List.of(Code.LEASE_NOT_TERMINATED)),
                new Case("erase: lease SUSPENDED", Action.ERASE, b -> b.lease("SUSPENDED", null), List.of(Code.LEASE_NOT_TERMINATED)),
                new Case("erase: no lease known", Action.ERASE, b -> b.lease = Optional.empty(), List.of(Code.LEASE_NOT_TERMINATED)),
                new Case("erase: retention not elapsed (29 days)", Action.ERASE, b -> b.lease("TERMINATED", days(-29)), List.of(Code.RETENTION)),
                new Case("erase: retention just elapsed (30 days)", Action.ERASE, b -> b.lease("TERMINATED", days(-30)), List.of()),
                new Case("erase: legal hold", Action.ERASE, b -> b.hold("LEGAL_HOLD"), List.of(Code.HOLD)),
                new Case("erase: preservation request", Action.ERASE, b -> b.hold("PRESERVATION_REQUEST"), List.of(Code.HOLD)),
                new Case("erase: two holds, two reasons", Action.ERASE, b -> b.hold("LEGAL_HOLD").hold("DISPUTE"), List.of(Code.HOLD, Code.HOLD)),
                new Case("erase: notice delivered 13 days ago", Action.ERASE,
                        b -> b.attempts(new AttemptFact("email", days(-13), Outcome.DELIVERED)), List.of(Code.NOTICE_NOT_PROVEN)),
                new Case("erase: notice acknowledged 14 days ago", Action.ERASE,
                        b -> b.attempts(new AttemptFact("link", days(-14), Outcome.ACKNOWLEDGED)), List.of()),
                new Case("erase: no notice at all", Action.ERASE, b -> b.attempts(), List.of(Code.NOTICE_NOT_PROVEN)),
                new Case("erase: bounced only, 3 attempts, 2 channels, 30 days: escalation holds", Action.ERASE,
                        b -> b.attempts(new AttemptFact("email", days(-31), Outcome.BOUNCED), new AttemptFact("email", days(-25), Outcome.BOUNCED),
                                new AttemptFact("ticket", days(-20), Outcome.SENT)), List.of()),
                new Case("erase: bounced only, one channel", Action.ERASE,
                        b -> b.attempts(new AttemptFact("email", days(-31), Outcome.BOUNCED), new AttemptFact("email", days(-25), Outcome.BOUNCED),
                                new AttemptFact("email", days(-20), Outcome.BOUNCED)), List.of(Code.NOTICE_NOT_PROVEN)),
                new Case("erase: bounced only, 2 attempts", Action.ERASE,
                        b -> b.attempts(new AttemptFact("email", days(-31), Outcome.BOUNCED), new AttemptFact("ticket", days(-25), Outcome.SENT)),
                        List.of(Code.NOTICE_NOT_PROVEN)),
                new Case("erase: bounced only, first attempt 29 days ago", Action.ERASE,
                        b -> b.attempts(new AttemptFact("email", days(-29), Outcome.BOUNCED), new AttemptFact("email", days(-25), Outcome.BOUNCED),
                                new AttemptFact("ticket", days(-20), Outcome.SENT)), List.of(Code.NOTICE_NOT_PROVEN)),
                new Case("erase: no approval", Action.ERASE, b -> b.approvals(), List.of(Code.APPROVAL_MISSING)),
                new Case("erase: approved by the requester", Action.ERASE,
                        b -> b.approvals(new ApprovalFact("alice", Set.of("approver"), days(-1))), List.of(Code.SELF_APPROVAL)),
                new Case("erase: approved by someone without the approver role", Action.ERASE,
                        b -> b.approvals(new ApprovalFact("dave", Set.of("operator"), days(-1))), List.of(Code.APPROVAL_MISSING)),
                new Case("erase: machine still ACTIVE", Action.ERASE, b -> b.state = "ACTIVE", List.of(Code.MACHINE_STATE)),
                new Case("erase: never-leased AVAILABLE machine needs no lease or notice", Action.ERASE, b -> {
                    b.leasedSinceLastErase = false;
                    b.state = "AVAILABLE";
                    b.lease = Optional.empty();
                    b.attempts();
                }, List.of()),
                new Case("erase: 11 machines in 24 h with one approver", Action.ERASE,
                        b -> b.bulk = new Facts.BulkFacts(11, 1, 100), List.of(Code.BULK_SECOND_APPROVAL)),
                new Case("erase: 10 machines in 24 h with one approver", Action.ERASE,
                        b -> b.bulk = new Facts.BulkFacts(10, 1, 100), List.of()),
                new Case("erase: 26 % of a tenant's fleet with one approver", Action.ERASE,
                        b -> b.bulk = new Facts.BulkFacts(5, 5, 19), List.of(Code.BULK_SECOND_APPROVAL)),
                new Case("erase: 630 machines with two approvers", Action.ERASE, b -> {
                    b.bulk = new Facts.BulkFacts(630, 630, 630);
                    b.approvals(bob, carol);
                }, List.of()),
                new Case("erase: everything wrong at once gives every reason", Action.ERASE, b -> {
                    b.state = "ACTIVE";
                    b.lease("ACTIVE", null);
                    b.hold("LEGAL_HOLD");
                    b.attempts();
                    b.approvals(new ApprovalFact("alice", Set.of("approver"), days(-1)));
                    b.bulk = new Facts.BulkFacts(630, 630, 630);
                }, List.of(Code.MACHINE_STATE, Code.HOLD, Code.LEASE_NOT_TERMINATED, Code.NOTICE_NOT_PROVEN, Code.SELF_APPROVAL,
                        Code.BULK_SECOND_APPROVAL)),
                new Case("reassign: erased with a valid certificate of every disk", Action.REASSIGN,
                        b -> b.erased(Set.of("S1", "S2"), true), List.of()),
                new Case("reassign: certificate misses a disk", Action.REASSIGN,
                        b -> b.erased(Set.of("S1"), true), List.of(Code.CERTIFICATE_INCOMPLETE)),
                new Case("reassign: the certificate spells the BMC's padded, lower-case serials as the agent read them", Action.REASSIGN,
                        b -> {
                            b.disks = Set.of("  s1", "S2    ");
                            b.erased(Set.of("S1", "s2"), true);
                        }, List.of()),
                new Case("reassign: a serial that really differs is still missing", Action.REASSIGN, b -> {
                    b.disks = Set.of("S1", "S2");
                    b.erased(Set.of("S1", "S 2"), true);
                }, List.of(Code.CERTIFICATE_INCOMPLETE)),
                new Case("reassign: certificate signature invalid", Action.REASSIGN,
                        b -> b.erased(Set.of("S1", "S2"), false), List.of(Code.CERTIFICATE_INVALID)),
                new Case("reassign: no certificate, not erased", Action.REASSIGN, b -> { }, List.of(Code.NOT_ERASED, Code.NO_CERTIFICATE)),
                new Case("reassign: hold", Action.REASSIGN, b -> b.erased(Set.of("S1", "S2"), true).hold("DISPUTE"), List.of(Code.HOLD)),
                new Case("erase continue: the erase goes on", Action.ERASE_CONTINUE, b -> b.state = "ERASING", List.of()),
                new Case("erase continue: approvals are not asked again", Action.ERASE_CONTINUE, b -> {
                    b.state = "ERASING";
                    b.approvals();
                }, List.of()),
                new Case("erase continue: a hold placed while it booted", Action.ERASE_CONTINUE, b -> {
                    b.state = "ERASING";
                    b.hold("PRESERVATION_REQUEST");
                }, List.of(Code.HOLD)),
                new Case("erase continue: the lease is active again", Action.ERASE_CONTINUE, b -> {
                    b.state = "ERASING";
                    b.lease("ACTIVE", null);
                }, List.of(Code.LEASE_NOT_TERMINATED)),
                new Case("erase continue: not an erasing machine", Action.ERASE_CONTINUE, b -> { }, List.of(Code.MACHINE_STATE)),
                new Case("boot external: a tenant's data, nobody asked", Action.BOOT_EXTERNAL, b -> b.lease("ACTIVE", null),
                        List.of(Code.TENANT_DATA)),
                new Case("boot external: a terminated lease's data is still a tenant's", Action.BOOT_EXTERNAL, b -> { }, List.of(Code.TENANT_DATA)),
                new Case("boot external: the tenant asked (confirmed by another person)", Action.BOOT_EXTERNAL, b -> {
                    b.lease("ACTIVE", null);
                    b.tenantRequest = Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", Optional.of("dave")));
                }, List.of()),
                new Case("boot external: an approver's emergency with a reason, lease ACTIVE", Action.BOOT_EXTERNAL, b -> {
                    b.lease("ACTIVE", null);
                    b.emergencyApprover = Optional.of("bob");
                    b.emergencyReason = Optional.of("rescue");
                }, List.of()),
                new Case("boot external: an approver's emergency alone (asked and done by one person) is refused", Action.BOOT_EXTERNAL, b -> {
                    b.lease("ACTIVE", null);
                    b.requester = "bob";
                    b.approvals(new ApprovalFact("bob", Set.of("approver"), FactsBuilder.NOW));
                    b.emergencyApprover = Optional.of("bob");
                    b.emergencyReason = Optional.of("rescue");
                }, List.of(Code.SELF_APPROVAL, Code.TENANT_DATA)),
                new Case("boot external: a rescue approved by an approver but carried out by the asker (who chose the medium)",
                        Action.BOOT_EXTERNAL, b -> {
                            b.lease("ACTIVE", null);
                            b.emergencyReason = Optional.of("rescue");
                        }, List.of(Code.TENANT_DATA)),
                new Case("boot external: a rescue approved only by a non-approver", Action.BOOT_EXTERNAL, b -> {
                    b.lease("ACTIVE", null);
                    b.approvals(new ApprovalFact("dave", Set.of("operator"), FactsBuilder.NOW));
                    b.emergencyReason = Optional.of("rescue");
                }, List.of(Code.TENANT_DATA)),
                new Case("boot external: no emergency on a terminated lease's data (one approver would erase)", Action.BOOT_EXTERNAL, b -> {
                    b.emergencyApprover = Optional.of("bob");
                    b.emergencyReason = Optional.of("rescue");
                }, List.of(Code.TENANT_DATA)),
                new Case("boot external: an emergency without a reason", Action.BOOT_EXTERNAL, b -> {
                    b.lease("ACTIVE", null);
                    b.emergencyApprover = Optional.of("bob");
                }, List.of(Code.EMERGENCY_WITHOUT_REASON, Code.TENANT_DATA)),
                new Case("boot external: a retired machine's BMC is not driven", Action.BOOT_EXTERNAL, b -> {
                    b.leasedSinceLastErase = false;
                    b.state = "RETIRED";
                    b.lease = Optional.empty();
                }, List.of(Code.MACHINE_STATE)),
                new Case("cycle: a retired machine's BMC is not driven", Action.POWER_CYCLE, b -> {
                    b.state = "RETIRED";
                    b.lease = Optional.empty();
                }, List.of(Code.MACHINE_STATE)),
                new Case("boot local: a tenant's ACTIVE machine, nobody asked", Action.BOOT_LOCAL, b -> {
                    b.state = "ACTIVE";
                    b.lease("ACTIVE", null);
                }, List.of(Code.LEASE_ACTIVE)),
                new Case("power-off: not while erasing", Action.POWER_OFF, b -> b.state = "ERASING", List.of(Code.MACHINE_STATE)),
                new Case("boot external: under a hold even when the tenant asked", Action.BOOT_EXTERNAL, b -> {
                    b.hold("PRESERVATION_REQUEST");
                    b.tenantRequest = Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", Optional.of("dave")));
                }, List.of(Code.HOLD)),
                new Case("boot external: erased since its last lease, anything boots", Action.BOOT_EXTERNAL, b -> {
                    b.leasedSinceLastErase = false;
                    b.state = "AVAILABLE";
                    b.lease = Optional.empty();
                }, List.of()),
                new Case("boot external: not while erasing", Action.BOOT_EXTERNAL, b -> {
                    b.leasedSinceLastErase = false;
                    b.state = "ERASING";
                }, List.of(Code.MACHINE_STATE)),
                new Case("boot external: an unverified BMC is not driven", Action.BOOT_EXTERNAL, b -> {
                    b.leasedSinceLastErase = false;
                    b.state = "VERIFY_FAILED";
                }, List.of(Code.MACHINE_STATE)),
                new Case("boot local: from its own disk under a hold", Action.BOOT_LOCAL, b -> b.hold("LEGAL_HOLD"), List.of()),
                new Case("boot local: not while erasing", Action.BOOT_LOCAL, b -> b.state = "ERASING", List.of(Code.MACHINE_STATE)),
                new Case("power-on: a retained machine", Action.POWER_ON, b -> { }, List.of()),
                new Case("power-on: not while erasing", Action.POWER_ON, b -> b.state = "ERASING", List.of(Code.MACHINE_STATE)),
                new Case("power-on: an unverified BMC is not driven", Action.POWER_ON, b -> b.state = "INSPECT_FAILED", List.of(Code.MACHINE_STATE)),
                new Case("cycle: lease ACTIVE, nobody asked", Action.POWER_CYCLE, b -> b.lease("ACTIVE", null), List.of(Code.LEASE_ACTIVE)),
                new Case("cycle: lease ACTIVE, tenant asked", Action.POWER_CYCLE, b -> {
                    b.lease("ACTIVE", null);
                    b.tenantRequest = Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", Optional.of("dave")));
                }, List.of()),
                new Case("cycle: not while erasing", Action.POWER_CYCLE, b -> b.state = "ERASING", List.of(Code.MACHINE_STATE)),
                new Case("power-off: lease ACTIVE, nobody asked", Action.POWER_OFF, b -> b.lease("ACTIVE", null), List.of(Code.LEASE_ACTIVE)),
                new Case("power-off: lease ACTIVE, tenant asked (recorded, confirmed by another person)", Action.POWER_OFF, b -> {
                    b.lease("ACTIVE", null);
                    b.tenantRequest = Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", Optional.of("dave")));
                }, List.of()),
                new Case("power-off: lease ACTIVE, tenant request not confirmed", Action.POWER_OFF, b -> {
                    b.lease("ACTIVE", null);
                    b.tenantRequest = Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", Optional.empty()));
                }, List.of(Code.TENANT_REQUEST_UNCONFIRMED, Code.LEASE_ACTIVE)),
                new Case("power-off: lease ACTIVE, tenant request confirmed by its recorder", Action.POWER_OFF, b -> {
                    b.lease("ACTIVE", null);
                    b.tenantRequest = Optional.of(new Facts.TenantRequestFact("tr", "TICKET", "T-1", "carol", Optional.of("carol")));
                }, List.of(Code.TENANT_REQUEST_UNCONFIRMED, Code.LEASE_ACTIVE)),
                new Case("power-off: lease SUSPENDED", Action.POWER_OFF, b -> b.lease("SUSPENDED", null), List.of()),
                new Case("power-off: BMC not verified (a twin, wrong credentials)", Action.POWER_OFF, b -> {
                    b.state = "VERIFY_FAILED";
                    b.lease = Optional.empty();
                }, List.of(Code.MACHINE_STATE)),
                new Case("power-off: in service without a lease fact", Action.POWER_OFF, b -> {
                    b.state = "ACTIVE";
                    b.lease = Optional.empty();
                }, List.of(Code.MACHINE_STATE)),
                new Case("power-off: emergency by an approver with a reason", Action.POWER_OFF, b -> {
                    b.lease("ACTIVE", null);
                    b.emergencyApprover = Optional.of("bob");
                    b.emergencyReason = Optional.of("machine is attacking others");
                }, List.of()),
                new Case("power-off: emergency without a reason", Action.POWER_OFF, b -> {
                    b.lease("ACTIVE", null);
                    b.emergencyApprover = Optional.of("bob");
                    b.emergencyReason = Optional.of(" ");
                }, List.of(Code.EMERGENCY_WITHOUT_REASON, Code.LEASE_ACTIVE)),
                new Case("power-off: emergency by a non-approver", Action.POWER_OFF, b -> {
                    b.lease("ACTIVE", null);
                    b.emergencyApprover = Optional.of("alice");
                    b.emergencyReason = Optional.of("urgent");
                }, List.of(Code.LEASE_ACTIVE)),
                new Case("power-off: unleased machine", Action.POWER_OFF, b -> b.lease = Optional.empty(), List.of()))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rule(Case c) {
        FactsBuilder b = new FactsBuilder();
        c.change().accept(b);
        Decision d = b.decide(c.action());
        assertEquals(c.expected(), d.reasons().stream().map(Decision.Reason::code).toList(), d.reasons().toString());
        assertEquals(c.expected().isEmpty(), d.allowed());
        d.reasons().forEach(r -> assertFalse(r.message().isBlank()));
    }

    @Test
    void reasonsExplainWhen() {
        Decision d = new FactsBuilder().lease("TERMINATED", days(-10)).decide(Action.ERASE);
        assertTrue(d.reasons().get(0).message().contains(days(20).toString()), d.reasons().toString());
    }
}
