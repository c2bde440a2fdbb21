package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** From a terminated lease to an erase that starts: power-off, notice, retention, approval, and the refusals on the way. */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class ActionApiTest {


    @Test
    void eraseRunsOnlyWhenEveryRuleHoldsAndEveryDecisionIsAudited() {
        String tenant = operator().body(Map.of("name", unique("act"))).post("/api/tenants").then().extract().path("id");
        io.metalgate.redfishmock.RedfishMock bmc = io.metalgate.testing.RedfishMocks.start(io.metalgate.redfishmock.Profile.IDRAC);
        bmc.bmc(0).setPowerState("On");
        String machine = operator().body(Map.of("name", unique("am"), "bmc", Map.of("protocol", "REDFISH", "host", bmc.options().bindHost(),
                "port", bmc.port(), "username", "admin", "password", "redfish-secret"))).post("/api/machines").then().extract().path("id");
        // through the product: verified at enrolment, inspected, leased, activated (DEPLOYING), marked deployed
        Lifecycle.awaitState(machine, "MANAGEABLE");
        operator().post("/api/machines/" + machine + "/inventory").then().statusCode(200);
        Lifecycle.awaitState(machine, "AVAILABLE");
        // the gate's facts carry the disks inspection found (what an erase certificate is compared with)
        operator().queryParam("action", "reassign").get("/api/machines/" + machine + "/gate").then().statusCode(200)
                .body("facts.machine.diskSerials", org.hamcrest.Matchers.containsInAnyOrder(bmc.bmc(0).driveSerial(1),
                        bmc.bmc(0).driveSerial(2)));
        String lease = Lifecycle.activeLease(tenant, List.of(machine));

        // power-off of an active lease's machine: refused, with the reason, and audited
        operator().post("/api/machines/" + machine + "/actions/power_off").then().statusCode(409)
                .body("type", equalTo("urn:metalgate:problem:gate-refused")).body("errors.field", contains("LEASE_ACTIVE"));
        // "the tenant asked" is not a flag an operator sets
        operator().body(Map.of("tenantRequested", true)).post("/api/machines/" + machine + "/actions/power_off").then()
                .statusCode(400).body("errors.field", hasItem("tenantRequested"));
        // it is a recorded request with its proof, confirmed by a second person
        String tr = operator().body(Map.of("action", "POWER_OFF", "channel", "TICKET", "proof", "ticket #4711 from the tenant's admin"))
                .post("/api/machines/" + machine + "/tenant-requests").then().statusCode(201).extract().path("id");
        operator().body(Map.of("tenantRequestId", tr)).post("/api/machines/" + machine + "/actions/power_off").then().statusCode(409)
                .body("errors.field", hasItem("TENANT_REQUEST_UNCONFIRMED"));
        operator().post("/api/tenant-requests/" + tr + "/confirm").then().statusCode(409);
        as("operator", "test-operator-2").post("/api/tenant-requests/" + tr + "/confirm").then().statusCode(200)
                .body("confirmedBy", equalTo("test-operator-2"));
        operator().body(Map.of("tenantRequestId", tr)).post("/api/machines/" + machine + "/actions/power_off").then()
                .statusCode(200).body("decision.allowed", equalTo(true)).body("state", equalTo("ACTIVE"));
        // used once
        operator().body(Map.of("tenantRequestId", tr)).post("/api/machines/" + machine + "/actions/power_off").then().statusCode(400);

        // the BMC is down when the lease is terminated: the conductor's power-off fails, the lifecycle does not pretend
        bmc.bmc(0).setPowerState("On");
        bmc.bmc(0).faults.brokenForever = true;
        as("billing").body(Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        Lifecycle.awaitAudit("machine:" + machine, "bmc.power-off-failed", 1);
        operator().get("/api/machines/" + machine).then().body("state", equalTo("ACTIVE"));
        bmc.bmc(0).faults.clear();
        Lifecycle.sleep(1200); // the failures opened the BMC's breaker: it lets a trial through after its cooldown (1 s in tests)
        // a graceful power-off only asks the system to stop: the lifecycle does not take it for done (the BMC took the request)
        bmc.bmc(0).setPowerState("On");
        operator().body(Map.of("action", "graceful_off")).post("/api/machines/" + machine + "/power").then().statusCode(200)
                .body("state", equalTo("ACTIVE"));
        Lifecycle.awaitAudit("machine:" + machine, "bmc.powered-off", 2); // the tenant's power-off above, and this one
        operator().get("/api/machines/" + machine).then().body("state", equalTo("ACTIVE"));
        bmc.bmc(0).setPowerState("On");
        operator().post("/api/machines/" + machine + "/actions/power_off").then().statusCode(200).body("state", equalTo("RETAINED"));
        org.junit.jupiter.api.Assertions.assertEquals("Off", bmc.bmc(0).powerState(), "the BMC powered it off");

        // erase right after termination: refused for retention, notice and approval
        operator().post("/api/machines/" + machine + "/actions/erase").then().statusCode(409)
                .body("errors.field", containsInAnyOrder("RETENTION", "NOTICE_NOT_PROVEN", "APPROVAL_MISSING"));

        // forty days later (time travel: the recorded times moved back), with a notice delivered twenty days ago
        PostgresTestResource.sql("UPDATE lease SET terminated_at = now() - interval '40 days' WHERE id = ?::uuid", lease);
        io.metalgate.testing.Lifecycle.deployedLongAgo(lease);
        String notice = operator().body(Map.of("kind", "TERMINATION", "tenantId", tenant, "leaseId", lease)).post("/api/notices")
                .then().extract().path("id");
        String attempt = operator().body(Map.of("channel", "EMAIL", "outcome", "DELIVERED", "proof", "250 2.0.0 OK id=77"))
                .post("/api/notices/" + notice + "/attempts").then().statusCode(200).extract().path("attempts[0].id");
        as("approver").body(Map.of("reason", "in the mail log")).post("/api/notices/" + notice + "/attempts/" + attempt + "/confirmations")
                .then().statusCode(200);
        PostgresTestResource.sql("UPDATE notice SET created_at = now() - interval '21 days' WHERE id = ?::uuid", notice);
        PostgresTestResource.sql("UPDATE notice_attempt SET at = now() - interval '20 days' WHERE notice_id = ?::uuid", notice);

        String request = operator().body(Map.of("action", "ERASE", "reason", "lease ended, retention over"))
                .post("/api/machines/" + machine + "/action-requests").then().statusCode(201).extract().path("id");
        // the requester cannot approve (an operator lacks the role; an approver-requester is refused as self-approval)
        operator().body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(403);
        as("approver").body(Map.of("reason", "checked")).post("/api/action-requests/" + request + "/approve").then()
                .statusCode(200).body("status", equalTo("APPROVED"));
        as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(409);

        // a hold placed now stops it
        String hold = as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "reason", "subpoena"))
                .post("/api/holds").then().statusCode(201).extract().path("id");
        operator().body(Map.of("requestId", request)).post("/api/machines/" + machine + "/actions/erase").then().statusCode(409)
                .body("errors.field", contains("HOLD"));
        operator().body(Map.of("reason", "withdrawn")).post("/api/holds/" + hold + "/release").then().statusCode(200);
        as("legal").body(Map.of("reason", "subpoena withdrawn")).post("/api/holds/" + hold + "/release").then().statusCode(200);

        operator().body(Map.of("requestId", request)).post("/api/machines/" + machine + "/actions/erase").then().statusCode(200)
                .body("decision.allowed", equalTo(true)).body("state", equalTo("ERASING"));
        operator().get("/api/machines/" + machine).then().body("state", equalTo("ERASING"));
        as("viewer").get("/api/action-requests/" + request).then().body("status", equalTo("EXECUTED"));
        // the erase boots the agent: a one-time network boot, then the power cycle (the machine was off: it powers on)
        org.junit.jupiter.api.Assertions.assertEquals("Pxe", bmc.bmc(0).lastBootTarget());
        org.junit.jupiter.api.Assertions.assertEquals("On", bmc.bmc(0).powerState());
        Lifecycle.awaitAudit("machine:" + machine, "bmc.boot-set", 1);
        Lifecycle.awaitAudit("machine:" + machine, "bmc.power-cycled", 1);
        bmc.close();

        admin().queryParam("subject", "machine:" + machine).queryParam("action", "gate.decided").get("/api/audit").then()
                .body("items.payload.allowed", contains(false, false, true, true, true, true, false, false, true))
                .body("items[8].payload.facts.lease.state", equalTo("TERMINATED"));
        admin().queryParam("subject", "machine:" + machine).queryParam("action", "machine.transitioned").get("/api/audit").then()
                .body("items.payload.to", contains("VERIFYING", "MANAGEABLE", "INSPECTING", "AVAILABLE", "DEPLOYING", "ACTIVE", "RETAINED",
                        "ERASING"));

        // the tenant's evidence report tells the whole story in chain order, each line with its sequence
        List<String> actions = as("legal").get("/api/tenants/" + tenant + "/evidence").then().statusCode(200)
                .body("signingKeyFingerprint", org.hamcrest.Matchers.matchesPattern("[0-9a-f]{64}"))
                .extract().jsonPath().getList("items.action");
        List<Long> seqs = as("legal").get("/api/tenants/" + tenant + "/evidence").then().extract().jsonPath()
                .getList("items.seq", Long.class);
        for (int i = 1; i < seqs.size(); i++) {
            org.junit.jupiter.api.Assertions.assertTrue(seqs.get(i) > seqs.get(i - 1), "chain order");
        }
        List<String> story = actions.stream().filter(a -> !a.equals("machine.transitioned")).toList();
        // the machine's entries from before it held this tenant's data (enrolment, inspection) are not the tenant's story
        org.junit.jupiter.api.Assertions.assertEquals(List.of("tenant.created", "lease.created",
                // the lease starts: any virtual media the machine had are ejected first (an intent of the conductor)
                "lease.transitioned", "bmc.intent", "bmc.media-ejected", "gate.decided", "tenant-request.recorded", "tenant-request.recorded", "gate.decided",
                "tenant-request.confirmed", "tenant-request.confirmed", "gate.decided", "bmc.intent", "bmc.powered-off", "lease.transitioned",
                "gate.decided", "bmc.intent", "bmc.power-off-failed", "gate.decided", "bmc.intent", "bmc.powered-off", "gate.decided",
                "bmc.intent", "bmc.powered-off", "gate.decided",
                "notice.created", "notice.attempt-recorded", "notice.attempt-confirmed", "action.requested", "action.approved", "action.approval-refused", "hold.placed",
                "gate.decided", "hold.release-requested", "hold.released", "gate.decided",
                // the allowed erase: the agent's network boot and the power cycle, each intent before its BMC step
                "bmc.intent", "bmc.intent", "bmc.boot-set", "bmc.power-cycled"), story);
        String html = as("legal").accept("text/html").get("/api/tenants/" + tenant + "/evidence").then().statusCode(200)
                .contentType("text/html").extract().asString();
        org.junit.jupiter.api.Assertions.assertTrue(html.contains("<td>hold.placed</td>") && html.contains("subpoena"), html);
        operator().get("/api/tenants/" + tenant + "/evidence").then().statusCode(403);

        // what the NOC graphs: gate decisions by action and outcome, BMC calls by protocol, operation and outcome
        List<String> metrics = as("viewer").get("/q/metrics").then().statusCode(200).extract().asString().lines()
                .filter(l -> l.startsWith("metalgate_")).toList();
        org.junit.jupiter.api.Assertions.assertTrue(metrics.stream().anyMatch(l -> l.startsWith("metalgate_gate_decisions_total{")
                && l.contains("action=\"ERASE\"") && l.contains("outcome=\"refused\"")), metrics.toString());
        org.junit.jupiter.api.Assertions.assertTrue(metrics.stream().anyMatch(l -> l.startsWith("metalgate_gate_decisions_total{")
                && l.contains("action=\"ERASE\"") && l.contains("outcome=\"allowed\"")), metrics.toString());
        org.junit.jupiter.api.Assertions.assertTrue(metrics.stream().anyMatch(l -> l.startsWith("metalgate_bmc_call_seconds_count{")
                && l.contains("operation=\"inspect\"") && l.contains("outcome=\"ok\"")), metrics.toString());
    }

    @Test
    void singleErasesOfOneTenantWithinTheWindowCountTowardTheBlastRadius() {
        // a tenant of four machines past retention, notice delivered: 25 % of its fleet is one machine
        io.metalgate.redfishmock.RedfishMock bmcs = Lifecycle.bmcs(4, io.metalgate.redfishmock.Profile.GENERIC);
        List<String> machines = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 4, "wm")).machines();

        // the first erase (two approvers: erases of other tests in this run share the appliance-wide 24 h window)
        String first = operator().body(Map.of("action", "ERASE", "reason", "reclaim")).post("/api/machines/" + machines.get(0)
                + "/action-requests").then().statusCode(201).extract().path("id");
        as("approver").body(Map.of()).post("/api/action-requests/" + first + "/approve").then().statusCode(200);
        as("approver", "test-approver-2").body(Map.of()).post("/api/action-requests/" + first + "/approve").then().statusCode(200);
        operator().body(Map.of("requestId", first)).post("/api/machines/" + machines.get(0) + "/actions/erase").then().statusCode(200)
                .body("state", equalTo("ERASING"));

        // the second, alone, makes two of four within 24 h: beyond 25 %, so it needs a second approver
        String second = operator().body(Map.of("action", "ERASE", "reason", "reclaim")).post("/api/machines/" + machines.get(1)
                + "/action-requests").then().statusCode(201).extract().path("id");
        as("approver").body(Map.of()).post("/api/action-requests/" + second + "/approve").then().statusCode(200);
        operator().get("/api/machines/" + machines.get(1) + "/gate?action=erase&requestId=" + second).then().statusCode(200)
                .body("decision.allowed", equalTo(false)).body("decision.reasons.code", contains("BULK_SECOND_APPROVAL"))
                .body("facts.bulk.tenantMachinesInWindow", equalTo(2)).body("facts.bulk.tenantFleetSize", equalTo(4));
        operator().body(Map.of("requestId", second)).post("/api/machines/" + machines.get(1) + "/actions/erase").then().statusCode(409)
                .body("errors.field", contains("BULK_SECOND_APPROVAL"));
        as("approver", "test-approver-2").body(Map.of()).post("/api/action-requests/" + second + "/approve").then().statusCode(200);
        operator().body(Map.of("requestId", second)).post("/api/machines/" + machines.get(1) + "/actions/erase").then().statusCode(200)
                .body("state", equalTo("ERASING"));

        // a plan over the other two counts the two erases already started
        operator().body(Map.of("selector", Map.of("machineIds", machines.subList(2, 4)), "reason", "rest")).queryParam("summary", true)
                .post("/api/bulk/erase").then().statusCode(201).body("blastRadius.erasedInWindow", org.hamcrest.Matchers.greaterThanOrEqualTo(2))
                .body("outcomes[0].reasons", hasItem("BULK_SECOND_APPROVAL"));
        bmcs.close();
    }

    @Test
    void selfApprovalExpiryAndBadActionsAreRefused() {
        String machine = operator().body(enrollment(unique("sa"), "pw")).post("/api/machines").then().extract().path("id");
        String request = as("approver").body(Map.of("action", "ERASE", "reason", "test")).post("/api/machines/" + machine
                + "/action-requests").then().statusCode(403).extract().path("type");
        String r2 = operator().body(Map.of("action", "ERASE", "reason", "test")).post("/api/machines/" + machine + "/action-requests")
                .then().statusCode(201).extract().path("id");
        PostgresTestResource.sql("UPDATE action_request SET expires_at = now() - interval '1 hour' WHERE id = ?::uuid", r2);
        as("approver").body(Map.of()).post("/api/action-requests/" + r2 + "/approve").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("expired"));
        admin().queryParam("subject", "machine:" + machine).queryParam("action", "action.approval-refused").get("/api/audit").then()
                .body("items.size()", equalTo(1)).body("items[0].actor", equalTo("test-approver"));
        operator().post("/api/machines/" + machine + "/actions/detonate").then().statusCode(400).body("errors.field", hasItem("action"));
        operator().post("/api/machines/00000000-0000-0000-0000-000000000000/actions/erase").then().statusCode(404);
        as("viewer").post("/api/machines/" + machine + "/actions/erase").then().statusCode(403);
        org.junit.jupiter.api.Assertions.assertNotNull(request);
    }
}
