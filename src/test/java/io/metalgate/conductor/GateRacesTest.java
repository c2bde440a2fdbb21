package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.Lifecycle.Fleet;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 point 2: decisions race-free under real concurrency. Each test fires the two sides at once
 * over HTTP and checks the invariant from the audit chain's order: whatever the interleaving, an action
 * was allowed only on facts from before the change that would have refused it.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class GateRacesTest {

    private RedfishMock bmcs;

    @AfterEach
    void stop() {
        if (bmcs != null) {
            bmcs.close();
        }
    }

    /** Machines of a new tenant, RETAINED, 40 days after termination, with a notice delivered 20 days ago. */
    private Fleet erasable(int n) {
        bmcs = Lifecycle.bmcs(n, Profile.GENERIC);
        return Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, n, "race"));
    }

    private static String approvedErase(String machine) {
        String request = operator().body(Map.of("action", "ERASE", "reason", "reclaim")).post("/api/machines/" + machine + "/action-requests")
                .then().statusCode(201).extract().path("id");
        as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        as("approver", "test-approver-2").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        return request;
    }

    private static long seqOf(String subject, String action) {
        return admin().queryParam("subject", subject).queryParam("action", action).get("/api/audit").then().extract().jsonPath()
                .getLong("items[0].seq");
    }

    /** The last gate decision of a machine: its chain position and whether it allowed. */
    private static Object[] lastDecision(String machine) {
        List<Map<String, Object>> decided = admin().queryParam("subject", "machine:" + machine).queryParam("action", "gate.decided")
                .get("/api/audit").then().extract().jsonPath().getList("items");
        Map<String, Object> last = decided.get(decided.size() - 1);
        return new Object[] { ((Number) last.get("seq")).longValue(), ((Map<?, ?>) last.get("payload")).get("allowed") };
    }

    /** Single erases fired together with a hold on their tenant: every erase allowed was decided before the hold. */
    @Test
    void singleErasesAgainstAHold() throws Exception {
        Fleet f = erasable(6);
        List<String> requests = f.machines().stream().map(GateRacesTest::approvedErase).toList();
        List<CompletableFuture<Response>> erases = new ArrayList<>();
        for (int i = 0; i < f.machines().size(); i++) {
            String m = f.machines().get(i);
            String r = requests.get(i);
            erases.add(CompletableFuture.supplyAsync(() -> operator().body(Map.of("requestId", r)).post("/api/machines/" + m + "/actions/erase")));
            if (i == 2) {
                as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", f.tenant(), "reason", "subpoena")).post("/api/holds").then()
                        .statusCode(201);
            }
        }
        long hold = seqOf("tenant:" + f.tenant(), "hold.placed");
        for (int i = 0; i < erases.size(); i++) {
            Response r = erases.get(i).get();
            String m = f.machines().get(i);
            Object[] last = lastDecision(m);
            String state = operator().get("/api/machines/" + m).then().extract().path("state");
            if (r.statusCode() == 200) {
                assertEquals("ERASING", state);
                assertTrue((Boolean) last[1] && (Long) last[0] < hold, "erase of " + m + " allowed after the hold");
            } else {
                assertEquals(409, r.statusCode());
                assertEquals("RETAINED", state);
                assertTrue((Long) last[0] > hold && r.jsonPath().getList("errors.field").contains("HOLD"), "refused for the hold");
            }
        }
    }

    /**
     * Erases fired at once, each with one approver: the blast-radius window counts every erase already started,
     * so no two are decided on the same count and none beyond the limit slips through.
     */
    @Test
    void concurrentSingleErasesDoNotSlipPastTheBlastRadius() throws Exception {
        bmcs = Lifecycle.bmcs(13, Profile.GENERIC);
        List<String> machines = Lifecycle.available(bmcs, 13, "radius");
        List<String> requests = new ArrayList<>();
        for (String m : machines) {
            String request = operator().body(Map.of("action", "ERASE", "reason", "wipe")).post("/api/machines/" + m + "/action-requests")
                    .then().statusCode(201).extract().path("id");
            as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
            requests.add(request);
        }
        List<CompletableFuture<Response>> erases = new ArrayList<>();
        for (int i = 0; i < machines.size(); i++) {
            String m = machines.get(i);
            String r = requests.get(i);
            erases.add(CompletableFuture.supplyAsync(() -> operator().body(Map.of("requestId", r)).post("/api/machines/" + m + "/actions/erase")));
        }
        java.util.Set<Integer> counts = new java.util.HashSet<>();
        int allowed = 0;
        for (int i = 0; i < erases.size(); i++) {
            Response r = erases.get(i).get();
            List<Map<String, Object>> decided = admin().queryParam("subject", "machine:" + machines.get(i)).queryParam("action", "gate.decided")
                    .get("/api/audit").then().extract().jsonPath().getList("items");
            Map<?, ?> payload = (Map<?, ?>) decided.get(decided.size() - 1).get("payload");
            int inWindow = ((Number) ((Map<?, ?>) ((Map<?, ?>) payload.get("facts")).get("bulk")).get("machinesInWindow")).intValue();
            if (r.statusCode() == 200) {
                allowed++;
                assertTrue(inWindow <= 10, "an erase with one approver allowed at " + inWindow + " machines in the window");
                assertTrue(counts.add(inWindow), "two erases decided on the same count " + inWindow);
            } else {
                assertEquals(409, r.statusCode());
                assertTrue(r.jsonPath().getList("errors.field").contains("BULK_SECOND_APPROVAL"), r.asString());
            }
        }
        assertTrue(allowed <= 10, allowed + " erases with one approver within 24 h");
    }

    /** A second approver rejects while the requester executes: never both rejected and executed. */
    @Test
    void rejectAgainstExecute() throws Exception {
        // eight machines: two single erases stay within 25 % of the fleet, so one approver suffices for both
        Fleet f = erasable(8);
        for (String m : f.machines().subList(0, 2)) {
            String request = operator().body(Map.of("action", "ERASE", "reason", "reclaim")).post("/api/machines/" + m + "/action-requests")
                    .then().statusCode(201).extract().path("id");
            as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
            // a second approval: other tests' erases in the 24 h window may already need it (blast radius)
            as("approver", "test-approver-3").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
            var execute = CompletableFuture.supplyAsync(() -> operator().body(Map.of("requestId", request))
                    .post("/api/machines/" + m + "/actions/erase"));
            var reject = CompletableFuture.supplyAsync(() -> as("approver", "test-approver-2").body(Map.of("reason", "not yet"))
                    .post("/api/action-requests/" + request + "/reject"));
            int executed = execute.get().statusCode();
            int rejected = reject.get().statusCode();
            String status = as("viewer").get("/api/action-requests/" + request).then().extract().path("status");
            String state = operator().get("/api/machines/" + m).then().extract().path("state");
            if (executed == 200) {
                assertEquals("EXECUTED", status);
                assertEquals("ERASING", state);
                assertEquals(409, rejected, "a rejection after the execution is refused");
            } else {
                assertEquals(200, rejected);
                assertEquals("REJECTED", status);
                assertEquals("RETAINED", state);
            }
        }
    }

    /** A lease reinstated while an operator powers its suspended machine off: an allowed power-off came before. */
    @Test
    void reinstatementAgainstPowerOff() throws Exception {
        String tenant = operator().body(Map.of("name", unique("reinstate"))).post("/api/tenants").then().extract().path("id");
        bmcs = Lifecycle.bmcs(1, Profile.GENERIC);
        List<String> machines = Lifecycle.available(bmcs, 1, "rein");
        String m = machines.get(0);
        String lease = Lifecycle.activeLease(tenant, machines);
        for (int round = 0; round < 3; round++) {
            operator().body(Map.of("event", "PAYMENT_OVERDUE")).post("/api/leases/" + lease + "/events").then().statusCode(200);
            as("billing").body(Map.of("event", "SUSPENDED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
            Lifecycle.awaitState(m, "SUSPENDED");
            var powerOff = CompletableFuture.supplyAsync(() -> operator().post("/api/machines/" + m + "/actions/power_off"));
            as("billing").body(Map.of("event", "PAYMENT_RECEIVED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
            Response r = powerOff.get();
            List<Map<String, Object>> transitions = admin().queryParam("subject", "lease:" + lease).queryParam("action", "lease.transitioned")
                    .get("/api/audit").then().extract().jsonPath().getList("items");
            long reinstated = ((Number) transitions.get(transitions.size() - 1).get("seq")).longValue();
            Object[] last = lastDecision(m);
            if (r.statusCode() == 200) {
                assertTrue((Boolean) last[1] && (Long) last[0] < reinstated, "power-off allowed on a lease already reinstated");
            } else {
                assertEquals(409, r.statusCode());
                assertTrue(!(Boolean) last[1] && (Long) last[0] > reinstated);
            }
            Lifecycle.awaitState(m, "ACTIVE");
        }
    }
}
