package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.Lifecycle.Fleet;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The holes of issue 10, each reproduced through the API as the red team did, with only an operator and
 * an approver (and legal for holds). Machines reach their states through the product alone.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class GateHolesTest {

    @Inject
    BmcIntents intents;

    private RedfishMock bmcs;

    @AfterEach
    void stop() {
        if (bmcs != null) {
            bmcs.close();
        }
    }

    /** {@code n} machines of a new tenant, through their lifecycle to RETAINED (lease terminated just now). */
    private Fleet retained(int n) {
        stop();
        bmcs = Lifecycle.bmcs(n, Profile.GENERIC);
        return Lifecycle.retained(bmcs, n, "hole");
    }

    /** 1a: leaving the lease, joining another or deleting the record does not take the data's protection away. */
    @Test
    void aRetainedMachineKeepsItsTenantsHoldsRetentionAndNoticesWhenItLeavesItsLease() {
        Fleet f = retained(1);
        String m = f.machines().get(0);
        as("legal").body(Map.of("kind", "PRESERVATION_REQUEST", "tenantId", f.tenant(), "reason", "counsel's letter"))
                .post("/api/holds").then().statusCode(201);
        operator().delete("/api/leases/" + f.lease() + "/machines/" + m).then().statusCode(200);
        String request = operator().body(Map.of("action", "ERASE", "reason", "reclaim")).post("/api/machines/" + m + "/action-requests")
                .then().statusCode(201).extract().path("id");
        as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        operator().body(Map.of("requestId", request)).post("/api/machines/" + m + "/actions/erase").then().statusCode(409)
                .body("errors.field", hasItems("HOLD", "RETENTION", "NOTICE_NOT_PROVEN"));
        operator().get("/api/machines/" + m + "/gate?action=erase").then().body("facts.lease.state", equalTo("TERMINATED"))
                .body("facts.machine.leasedSinceLastErase", equalTo(true));

        // straight into another tenant's lease: refused, and audited
        String other = operator().body(Map.of("name", unique("next"))).post("/api/tenants").then().extract().path("id");
        operator().body(Map.of("tenantId", other, "externalRef", unique("L"), "machineIds", List.of(m))).post("/api/leases").then()
                .statusCode(409).body("type", equalTo("urn:metalgate:problem:machine-holds-data"));
        String otherLease = operator().body(Map.of("tenantId", other, "externalRef", unique("L"))).post("/api/leases").then()
                .statusCode(201).extract().path("id");
        operator().body(Map.of("machineIds", List.of(m))).post("/api/leases/" + otherLease + "/machines").then().statusCode(409);
        // its record is evidence: not deleted, the refusal audited
        operator().delete("/api/machines/" + m).then().statusCode(409);
        admin().queryParam("subject", "machine:" + m).queryParam("action", "machine.delete-refused").get("/api/audit").then()
                .body("items.size()", equalTo(1));
        // nor can it be pointed at another BMC
        operator().body(Map.of("bmc", Map.of("host", "127.0.0.1", "port", 1))).patch("/api/machines/" + m).then().statusCode(409);
        // the tenant's evidence keeps the machine's decisions after it left the lease
        List<String> subjects = as("legal").get("/api/tenants/" + f.tenant() + "/evidence").then().statusCode(200).extract().jsonPath()
                .getList("items.subject");
        List<String> actions = as("legal").get("/api/tenants/" + f.tenant() + "/evidence").then().extract().jsonPath().getList("items.action");
        int refusedErase = -1;
        for (int i = 0; i < subjects.size(); i++) {
            if (subjects.get(i).equals("machine:" + m) && actions.get(i).equals("gate.decided")) {
                refusedErase = i;
            }
        }
        assertTrue(refusedErase > actions.indexOf("lease.machines-removed"), "the refused erase after it left the lease is in the report");
    }

    /**
     * 1c: the same server behind two BMC addresses (a second NIC, a shared LOM) is one machine: the IPMI system
     * GUID, authenticated in the session, is its identity; the second machine fails verification, audited.
     */
    @Test
    void oneServerBehindTwoAddressesIsOneMachine() throws Exception {
        int port;
        try (var probe = new java.net.DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        try (var first = io.metalgate.ipmisim.IpmiSim.start(io.metalgate.ipmisim.IpmiSim.Options.one(port)
                .at(io.metalgate.testing.RedfishMocks.freshAddress()));
                var second = io.metalgate.ipmisim.IpmiSim.start(io.metalgate.ipmisim.IpmiSim.Options.one(port)
                        .at(io.metalgate.testing.RedfishMocks.freshAddress()))) {
            second.bmc(0).setGuid(first.bmc(0).guid());
            first.bmc(0).setPowerOn(true);
            second.bmc(0).setPowerOn(true);
            String a = operator().body(Map.of("name", unique("nic1"), "bmc", Map.of("protocol", "IPMI", "host", first.host(0), "port", port,
                    "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(a, "MANAGEABLE");
            String b = operator().body(Map.of("name", unique("nic2"), "bmc", Map.of("protocol", "IPMI", "host", second.host(0), "port", port,
                    "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(b, "VERIFY_FAILED");
            admin().queryParam("subject", "machine:" + b).queryParam("action", "bmc.twin-refused").get("/api/audit").then()
                    .body("items[0].payload.machine", equalTo(a));
            // a twin stays unverified, and an unverified BMC is never driven
            operator().post("/api/machines/" + b + "/lifecycle/retry").then().statusCode(200);
            Lifecycle.awaitState(b, "VERIFY_FAILED");
            operator().post("/api/machines/" + b + "/actions/power_off").then().statusCode(409).body("errors.field", hasItem("MACHINE_STATE"));
            as("approver").body(Map.of("emergencyReason", "attack")).post("/api/machines/" + b + "/actions/power_off").then().statusCode(409);
            assertTrue(first.bmc(0).powerOn(), "the server behind both is still on");
            assertEquals(0, second.bmc(0).powerChanges(), "nothing driven through the twin");
        }
    }

    /** The fleet's lease terminated 40 days ago (its machines deployed long before), and a termination notice with no attempt yet. */
    private static String pastRetentionWithANotice(Fleet f) {
        PostgresTestResource.sql("UPDATE lease SET terminated_at = now() - interval '40 days' WHERE id = ?::uuid", f.lease());
        Lifecycle.deployedLongAgo(f.lease());
        return operator().body(Map.of("kind", "TERMINATION", "tenantId", f.tenant(), "leaseId", f.lease())).post("/api/notices")
                .then().statusCode(201).extract().path("id");
    }

    /** 1b: the gate reasons about the server's receipt time; a claimed time is kept beside it; no proof older than its notice. */
    @Test
    void noticeAttemptsCountFromWhenTheApplianceReceivedThem() {
        Fleet f = retained(1);
        String m = f.machines().get(0);
        String notice = pastRetentionWithANotice(f);
        String claimed = Instant.now().minus(Duration.ofDays(31)).toString();
        // an attempt claimed 31 days ago, for a notice made today: refused (a proof is never older than what it proves)
        operator().body(Map.of("channel", "EMAIL", "outcome", "BOUNCED", "proof", "550", "at", claimed))
                .post("/api/notices/" + notice + "/attempts").then().statusCode(400).body("errors.field", hasItem("at"));
        operator().body(Map.of("channel", "LINK", "outcome", "ACKNOWLEDGED", "proof", "signed link",
                "at", Instant.now().minus(Duration.ofDays(400)).toString())).post("/api/notices/" + notice + "/attempts").then().statusCode(400);
        // three attempts on two channels today: the 30-day escalation wait starts now, whatever is claimed
        for (String channel : List.of("EMAIL", "WEBHOOK", "EMAIL")) {
            operator().body(Map.of("channel", channel, "outcome", "BOUNCED", "proof", "550 no such user"))
                    .post("/api/notices/" + notice + "/attempts").then().statusCode(200);
        }
        operator().get("/api/notices/" + notice).then().body("attempts.size()", equalTo(3));
        operator().get("/api/machines/" + m + "/gate?action=erase").then().body("decision.reasons.code", hasItem("NOTICE_NOT_PROVEN"));
        // a delivery received now (its claimed time kept beside it), confirmed by a second person: the 14-day lead runs from now
        String delivered = operator().body(Map.of("channel", "EMAIL", "outcome", "DELIVERED", "proof", "250 OK (sent by hand)",
                "at", Instant.now().toString())).post("/api/notices/" + notice + "/attempts").then().statusCode(200)
                .body("attempts[3].claimedAt", org.hamcrest.Matchers.notNullValue()).extract().path("attempts[3].id");
        as("approver").body(Map.of("reason", "seen in the mail log")).post("/api/notices/" + notice + "/attempts/" + delivered
                + "/confirmations").then().statusCode(200);
        operator().get("/api/machines/" + m + "/gate?action=erase").then().body("decision.reasons.code", hasItem("NOTICE_NOT_PROVEN"));
    }

    /**
     * Claims need proof: an attempt a person types in is that person's word. The gate counts it only once a second,
     * different person confirms it; the tenant's acknowledgement through its link is recorded by the tenant's page alone.
     */
    @Test
    void aNoticeAttemptTypedInCountsOnlyOnceASecondPersonConfirmsIt() {
        Fleet f = retained(1);
        String m = f.machines().get(0);
        String notice = pastRetentionWithANotice(f);
        operator().body(Map.of("channel", "LINK", "outcome", "ACKNOWLEDGED", "proof", "the tenant said so"))
                .post("/api/notices/" + notice + "/attempts").then().statusCode(400).body("errors.field", hasItem("channel"));
        String attempt = operator().body(Map.of("channel", "EMAIL", "outcome", "DELIVERED", "proof", "250 OK"))
                .post("/api/notices/" + notice + "/attempts").then().statusCode(200).body("attempts[0].byPerson", equalTo(true))
                .body("attempts[0].confirmedBy", org.hamcrest.Matchers.nullValue()).extract().path("attempts[0].id");
        PostgresTestResource.sql("UPDATE notice SET created_at = now() - interval '21 days' WHERE id = ?::uuid", notice);
        PostgresTestResource.sql("UPDATE notice_attempt SET at = now() - interval '20 days' WHERE notice_id = ?::uuid", notice);
        operator().get("/api/machines/" + m + "/gate?action=erase").then().body("decision.reasons.code", hasItem("NOTICE_NOT_PROVEN"))
                .body("facts.notices[0].attempts[0].proven", equalTo(false))
                .body("decision.reasons.find { it.code == 'NOTICE_NOT_PROVEN' }.message",
                        org.hamcrest.Matchers.containsString("until a second person confirms them"));
        // not by the person who typed it in
        operator().body(Map.of("reason", "I sent it")).post("/api/notices/" + notice + "/attempts/" + attempt + "/confirmations").then()
                .statusCode(409);
        as("viewer").body(Map.of("reason", "x")).post("/api/notices/" + notice + "/attempts/" + attempt + "/confirmations").then()
                .statusCode(403);
        as("approver").body(Map.of("reason", "the mail log shows 250 OK")).post("/api/notices/" + notice + "/attempts/" + attempt
                + "/confirmations").then().statusCode(200).body("attempts[0].confirmedBy", equalTo("test-approver"));
        operator().get("/api/machines/" + m + "/gate?action=erase").then()
                .body("decision.reasons.code", org.hamcrest.Matchers.not(hasItem("NOTICE_NOT_PROVEN")));
        as("approver", "test-approver-2").body(Map.of("reason", "again")).post("/api/notices/" + notice + "/attempts/" + attempt
                + "/confirmations").then().statusCode(409);
        Lifecycle.awaitAudit("tenant:" + f.tenant(), "notice.attempt-confirmed", 1);
    }

    /**
     * The blast-radius share is of the machines that served the tenant: twelve machines enrolled and joined to a lease of
     * the tenant that never starts (and even activated: their BMCs never answer, so they never deploy) do not dilute it.
     */
    @Test
    void aTenantsFleetIsNotPaddedWithMachinesThatNeverServedIt() {
        Fleet f = Lifecycle.pastRetentionWithNotice(retained(2));
        List<String> pad = new java.util.ArrayList<>();
        for (int i = 0; i < 12; i++) {
            pad.add(operator().body(io.metalgate.testing.Api.enrollment(unique("pad"), "pw")).post("/api/machines").then().statusCode(201)
                    .extract().path("id"));
        }
        String padLease = operator().body(Map.of("tenantId", f.tenant(), "externalRef", unique("pad"), "machineIds", pad))
                .post("/api/leases").then().statusCode(201).extract().path("id");
        // an operator does not start a tenant's service (billing does: its machines would then count in the tenant's fleet)
        operator().body(Map.of("event", "ACTIVATED")).post("/api/leases/" + padLease + "/events").then().statusCode(403);
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + padLease + "/events").then().statusCode(200);
        // spare machines deployed into a running lease of the tenant today: they serve it, but not for a whole window yet
        try (RedfishMock spares = Lifecycle.bmcs(3, Profile.GENERIC)) {
            List<String> spare = Lifecycle.available(spares, 3, "spare");
            String running = Lifecycle.activeLease(f.tenant(), spare.subList(0, 2));
            // machines join a started lease through billing only (they are deployed for the tenant at once)
            operator().body(Map.of("machineIds", List.of(spare.get(2)))).post("/api/leases/" + running + "/machines").then().statusCode(403);
            as("billing").body(Map.of("machineIds", List.of(spare.get(2)))).post("/api/leases/" + running + "/machines").then()
                    .statusCode(200);
            Lifecycle.awaitState(spare.get(2), "DEPLOYING");
            // the tenant's two machines are all of its fleet: a plan over both is 100 % of it, not 2 of 17
            operator().body(Map.of("selector", Map.of("leaseId", f.lease()), "reason", "reclaim")).queryParam("summary", true)
                    .post("/api/bulk/erase").then().statusCode(201).body("blastRadius.perTenant[0].machines", equalTo(2))
                    .body("blastRadius.perTenant[0].fleet", equalTo(2)).body("blastRadius.perTenant[0].share", equalTo(1.0f));
        }
    }

    /** 1d, 2, 3: a hold placed while a bulk erase executes stops every machine decided after it; each outcome is on the plan. */
    @Test
    void aHoldPlacedWhileABulkEraseExecutesStopsIt() throws Exception {
        Fleet f = Lifecycle.pastRetentionWithNotice(retained(14));
        String plan = operator().body(Map.of("selector", Map.of("leaseId", f.lease()), "reason", "reclaim")).queryParam("summary", true)
                .post("/api/bulk/erase").then().statusCode(201).extract().path("id");
        as("approver").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200);
        as("approver", "test-approver-2").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200)
                .body("allowed", equalTo(14));

        CompletableFuture<io.restassured.response.Response> execute = CompletableFuture.supplyAsync(() -> operator()
                .post("/api/bulk/plans/" + plan + "/execute"));
        CompletableFuture<io.restassured.response.Response> again = CompletableFuture.supplyAsync(() -> operator()
                .post("/api/bulk/plans/" + plan + "/execute"));
        Lifecycle.sleep(40);
        String hold = as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", f.tenant(), "reason", "subpoena"))
                .post("/api/holds").then().statusCode(201).extract().path("id");
        var first = execute.get();
        var second = again.get();
        // two executes of one plan never act twice: one runs (202, in the background), the other is refused
        assertTrue((first.statusCode() == 202) != (second.statusCode() == 202), first.statusCode() + " and " + second.statusCode());
        assertEquals(409, (first.statusCode() == 202 ? second : first).statusCode());
        var done = Lifecycle.awaitPlan(plan);
        long holdSeq = admin().queryParam("subject", "tenant:" + f.tenant()).queryParam("action", "hold.placed").get("/api/audit").then()
                .extract().jsonPath().getLong("items[0].seq");
        int erasing = 0;
        for (String m : f.machines()) {
            String state = operator().get("/api/machines/" + m).then().extract().path("state");
            List<Map<String, Object>> decided = admin().queryParam("subject", "machine:" + m).queryParam("action", "gate.decided")
                    .get("/api/audit").then().extract().jsonPath().getList("items");
            Map<String, Object> last = decided.get(decided.size() - 1);
            long seq = ((Number) last.get("seq")).longValue();
            boolean allowed = (Boolean) ((Map<?, ?>) last.get("payload")).get("allowed");
            if (state.equals("ERASING")) {
                erasing++;
                assertTrue(allowed && seq < holdSeq, "machine " + m + " went to ERASING on a decision made before the hold");
            } else {
                assertEquals("RETAINED", state);
                assertTrue(!allowed && seq > holdSeq, "machine " + m + " was decided again after the hold, and refused");
            }
        }
        String status = done.getString("status");
        assertEquals(erasing == 14 ? "EXECUTED" : "PARTIAL", status);
        assertEquals(erasing, done.getInt("executed.DONE"));
        if (erasing < 14) {
            assertEquals(14 - erasing, done.getInt("executed.REFUSED"));
            assertTrue(done.getList("executions.detail", String.class).stream().anyMatch(d -> d.contains("HOLD")));
        }
        // re-executing does nothing twice: the refused stay refused while the hold stands, the done stay done
        if (status.equals("PARTIAL")) {
            operator().post("/api/bulk/plans/" + plan + "/execute").then().statusCode(202);
            var again2 = Lifecycle.awaitPlan(plan);
            assertEquals("PARTIAL", again2.getString("status"));
            assertEquals(erasing, again2.getInt("executed.DONE"));
        }
        assertTrue(hold != null);
    }

    /**
     * 1e's class: the power-off gate trusts a SUSPENDED or TERMINATED lease, so an operator cannot make one.
     * Only billing (its people, or a token that an operator cannot mint) ends or suspends a contract.
     */
    @Test
    void anOperatorCannotEndAContractToPowerItsServersOff() {
        String tenant = operator().body(Map.of("name", unique("contract"))).post("/api/tenants").then().extract().path("id");
        String ref = unique("contract");
        String lease = operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().extract().path("id");
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        for (String event : List.of("TERMINATED")) {
            operator().body(Map.of("event", event)).post("/api/leases/" + lease + "/events").then().statusCode(403)
                    .body("errors.field", hasItem("event"));
            as("approver").body(Map.of("event", event)).post("/api/leases/" + lease + "/events").then().statusCode(403);
        }
        operator().body(Map.of("event", "PAYMENT_OVERDUE")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        operator().body(Map.of("event", "SUSPENDED")).post("/api/leases/" + lease + "/events").then().statusCode(403);
        operator().body(Map.of("event", "PAYMENT_RECEIVED")).post("/api/leases/" + lease + "/events").then().statusCode(403);
        // nor through the integration endpoint with a token of its own
        String token = operator().body(Map.of("name", unique("fake-billing"), "roles", List.of("operator"))).post("/api/tokens").then().statusCode(201).extract().path("token");
        given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON)
                .body(Map.of("source", "billing", "externalId", unique("ev"), "type", "TERMINATED", "leaseRef", ref))
                .post("/api/integrations/lease-events").then().statusCode(403);
        operator().body(Map.of("name", unique("fake-billing"), "roles", List.of("billing"))).post("/api/tokens").then().statusCode(400);
        operator().get("/api/leases/" + lease).then().body("state", equalTo("OVERDUE"));
        as("billing").body(Map.of("event", "SUSPENDED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
    }

    /** 1f: a lease event whose details ask to preserve data places a PRESERVATION_REQUEST hold at once. */
    @Test
    void aLeaseEventAskingToPreserveDataPlacesAHold() {
        String tenant = operator().body(Map.of("name", unique("pres"))).post("/api/tenants").then().extract().path("id");
        String ref = unique("contract");
        operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        String token = as("billing").body(Map.of("name", unique("billing"), "roles", List.of("billing"))).post("/api/tokens").then().extract().path("token");
        given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON)
                .body(Map.of("source", "billing", "externalId", unique("ev"), "type", "ACTIVATED", "leaseRef", ref,
                        "details", Map.of("note", "Our lawyers ask you to PRESERVE all data on these servers.")))
                .post("/api/integrations/lease-events").then().statusCode(202);
        operator().queryParam("tenantId", tenant).get("/api/holds").then().statusCode(200)
                .body("kind", hasItem("PRESERVATION_REQUEST")).body("[0].reason", org.hamcrest.Matchers.containsString("preserv"));
        // an ordinary event does not
        String calm = operator().body(Map.of("name", unique("calm"))).post("/api/tenants").then().extract().path("id");
        String calmRef = unique("contract");
        operator().body(Map.of("tenantId", calm, "externalRef", calmRef)).post("/api/leases").then().statusCode(201);
        given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON)
                .body(Map.of("source", "billing", "externalId", unique("ev"), "type", "ACTIVATED", "leaseRef", calmRef,
                        "details", Map.of("invoice", "INV-7")))
                .post("/api/integrations/lease-events").then().statusCode(202);
        operator().queryParam("tenantId", calm).get("/api/holds").then().body("size()", equalTo(0));
    }

    /**
     * 4 and 5: an allowed erase of a machine never leased is carried out and audited (the gate's start states
     * are the table's); RETIRE works for a machine without a tenant's data and is refused for one with it.
     */
    @Test
    void aNeverLeasedMachineIsErasedAndRetiredThroughTheLifecycle() {
        bmcs = Lifecycle.bmcs(2, Profile.GENERIC);
        List<String> machines = Lifecycle.available(bmcs, 2, "fresh");
        String m = machines.get(0);
        String request = operator().body(Map.of("action", "ERASE", "reason", "wipe before first lease"))
                .post("/api/machines/" + m + "/action-requests").then().statusCode(201).extract().path("id");
        as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        as("approver", "test-approver-2").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        operator().body(Map.of("requestId", request)).post("/api/machines/" + m + "/actions/erase").then().statusCode(200)
                .body("state", equalTo("ERASING"));
        admin().queryParam("subject", "machine:" + m).queryParam("action", "gate.decided").get("/api/audit").then()
                .body("items.payload.allowed", org.hamcrest.Matchers.contains(true));
        // retire: the never-leased one leaves the pool; a machine holding a tenant's data does not
        operator().post("/api/machines/" + machines.get(1) + "/lifecycle/retire").then().statusCode(200).body("state", equalTo("RETIRED"));
        operator().post("/api/machines/" + machines.get(1) + "/lifecycle/retire").then().statusCode(409)
                .body("allowedEvents", org.hamcrest.Matchers.empty());
        Fleet f = retained(1);
        operator().post("/api/machines/" + f.machines().get(0) + "/lifecycle/retire").then().statusCode(409);
        // gated steps are never fired by hand
        operator().post("/api/machines/" + f.machines().get(0) + "/lifecycle/erase").then().statusCode(400);
        operator().get("/api/lifecycle").then().statusCode(200).body("machine.event", hasItem("ERASE")).body("lease.guard",
                hasItem("every machine erased or released"));
    }

    /** 1g: intent before action; after a crash the unfinished intent is reconciled with what the BMC says. */
    @Test
    void anInterruptedPowerOffIsReconciledWithTheBmc() {
        String tenant = operator().body(Map.of("name", unique("crash"))).post("/api/tenants").then().extract().path("id");
        bmcs = Lifecycle.bmcs(2, Profile.GENERIC);
        List<String> machines = Lifecycle.available(bmcs, 2, "crash");
        Lifecycle.activeLease(tenant, machines);
        // as a kill -9 leaves it: the intent recorded (10 minutes ago), the BMC driven (machine 0 is off) or not (machine 1)
        bmcs.bmc(0).setPowerState("Off");
        List<String> ids = new ArrayList<>();
        for (String m : machines) {
            String id = java.util.UUID.randomUUID().toString();
            ids.add(id);
            PostgresTestResource.sql("INSERT INTO bmc_intent (id, machine_id, operation, event, from_state, actor, created_at, status) "
                    + "SELECT '" + id + "'::uuid, ?::uuid, 'POWER_OFF', 'SUSPEND', 'ACTIVE', 'test-operator', now() - interval '10 minutes', 'PENDING'", m);
        }
        assertEquals(2, intents.reconcile().await().atMost(Duration.ofSeconds(30)));
        assertEquals("DONE", PostgresTestResource.sqlValue("SELECT status FROM bmc_intent WHERE id = ?::uuid", ids.get(0)));
        assertEquals("FAILED", PostgresTestResource.sqlValue("SELECT status FROM bmc_intent WHERE id = ?::uuid", ids.get(1)));
        Lifecycle.awaitState(machines.get(0), "SUSPENDED");
        operator().get("/api/machines/" + machines.get(1)).then().body("state", equalTo("ACTIVE"));
        Lifecycle.awaitAudit("machine:" + machines.get(0), "bmc.intent-reconciled", 1);
        Lifecycle.awaitAudit("machine:" + machines.get(1), "bmc.intent-not-carried-out", 1);
        assertEquals(0, intents.reconcile().await().atMost(Duration.ofSeconds(30)), "nothing is reconciled twice");
    }
}
