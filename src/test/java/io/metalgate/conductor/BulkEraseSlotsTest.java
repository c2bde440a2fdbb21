package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Erases;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code metalgate.erase.max-concurrent} (2 here) over a bulk erase of 5 machines: at most 2 are ERASING at any moment;
 * the others wait QUEUED on the plan and are started by the conductor as earlier erases end (ERASED through the agent's
 * report, ERASE_FAILED through a refused one), each decided again by the gate under its lock when it is started — a
 * hold placed on a queued machine stops it then, and the next one takes the slot.
 */
@QuarkusTest
@TestProfile(BulkEraseSlotsTest.TwoAtOnce.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BulkEraseSlotsTest {

    public static class TwoAtOnce implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("metalgate.erase.max-concurrent", "2");
        }
    }

    private static long scalar(Connection c, String sql) throws Exception {
        try (var st = c.createStatement(); var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The plan's machines' outcomes, in the plan's order (its decisions are listed in it). */
    private static List<String> outcomes(String plan, List<String> order) {
        var p = operator().get("/api/bulk/plans/" + plan).then().statusCode(200).extract().jsonPath();
        List<String> out = new ArrayList<>();
        for (String m : order) {
            List<String> o = p.getList("executions.findAll { it.machineId == '" + m + "' }.outcome", String.class);
            out.add(o.isEmpty() ? "-" : o.get(0));
        }
        return out;
    }

    private static void awaitOutcomes(String plan, List<String> order, List<String> expected) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        List<String> now = null;
        while (System.nanoTime() < deadline) {
            now = outcomes(plan, order);
            if (now.equals(expected)) {
                return;
            }
            Lifecycle.sleep(100);
        }
        throw new AssertionError("plan " + plan + " outcomes " + now + ", not " + expected);
    }

    private static String state(String machine) {
        return operator().get("/api/machines/" + machine).then().statusCode(200).extract().path("state");
    }

    private static long lastSeq(String subject, String action) {
        List<Long> seqs = admin().queryParam("subject", subject).queryParam("action", action).queryParam("limit", 1000).get("/api/audit").then()
                .statusCode(200).extract().jsonPath().getList("items.seq", Long.class);
        return seqs.isEmpty() ? -1 : seqs.get(seqs.size() - 1);
    }

    /** The machine's last erase decision: its seq and whether it allowed (seq -1: none). */
    private static Map<String, Object> lastEraseDecision(String machine) {
        List<Map<String, Object>> items = admin().queryParam("subject", "machine:" + machine).queryParam("action", "gate.decided")
                .queryParam("limit", 1000).get("/api/audit").then().statusCode(200).extract().jsonPath()
                .getList("items.findAll { it.payload.action == 'ERASE' }");
        if (items.isEmpty()) {
            return Map.of("seq", -1L, "allowed", false);
        }
        Map<String, Object> last = items.get(items.size() - 1);
        return Map.of("seq", ((Number) last.get("seq")).longValue(), "allowed", ((Map<?, ?>) last.get("payload")).get("allowed"));
    }

    @Test
    void atMostTheLimitEraseAtOnceAndTheQueuedStartAsEarlierErasesEnd() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(5, Profile.GENERIC);
                Connection db = PostgresTestResource.postgres().ownerConnection()) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 5, "slots"));
            String plan = operator().body(Map.of("selector", Map.of("leaseId", fleet.lease()), "reason", "reclaim")).post("/api/bulk/erase")
                    .then().statusCode(201).extract().path("id");
            as("approver").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200);
            List<String> order = as("approver", "test-approver-2").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then()
                    .statusCode(200).body("allowed", equalTo(5)).extract().jsonPath().getList("decisions.machineId", String.class);
            int[] bmc = new int[5]; // the mock's BMC of each machine, in the plan's order
            for (int i = 0; i < 5; i++) {
                bmc[i] = fleet.machines().indexOf(order.get(i));
            }

            // the number of machines ERASING, watched while the plan runs
            AtomicInteger most = new AtomicInteger();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> {
                try (Connection w = PostgresTestResource.postgres().ownerConnection()) {
                    while (watching.get()) {
                        most.accumulateAndGet((int) scalar(w, "SELECT count(*) FROM machine WHERE lifecycle_state = 'ERASING'"), Math::max);
                        Thread.sleep(5);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            watcher.start();
            try {
                operator().post("/api/bulk/plans/" + plan + "/execute").then().statusCode(202).body("status", equalTo("EXECUTING"));
                // two start; three wait on the plan, untouched (no decision made for them yet)
                awaitOutcomes(plan, order, List.of("DONE", "DONE", "QUEUED", "QUEUED", "QUEUED"));
                Lifecycle.awaitState(order.get(0), "ERASING");
                Lifecycle.awaitState(order.get(1), "ERASING");
                Lifecycle.sleep(500);
                for (int i = 2; i < 5; i++) {
                    assertEquals("RETAINED", state(order.get(i)));
                    assertEquals(-1L, lastEraseDecision(order.get(i)).get("seq"), "a queued machine is decided when it starts");
                }
                operator().get("/api/bulk/plans/" + plan).then().body("status", equalTo("EXECUTING")).body("executed.QUEUED", equalTo(3));

                // a hold on the first queued machine, placed while it waits
                as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", fleet.tenant(), "machineIds", List.of(order.get(2)),
                        "reason", "subpoena for one server")).post("/api/holds").then().statusCode(201);
                long hold = lastSeq("tenant:" + fleet.tenant(), "hold.placed");

                // the first erase ends (ERASED, certified): the held machine is decided now and refused, the next one takes the slot
                Erases.certified(bmcs, bmc[0], order.get(0), null);
                awaitOutcomes(plan, order, List.of("DONE", "DONE", "REFUSED", "DONE", "QUEUED"));
                Lifecycle.awaitState(order.get(3), "ERASING");
                assertEquals("RETAINED", state(order.get(2)));
                long erased = lastSeq("machine:" + order.get(0), "machine.transitioned");
                var refused = lastEraseDecision(order.get(2));
                assertEquals(false, refused.get("allowed"));
                assertTrue((Long) refused.get("seq") > hold && (Long) refused.get("seq") > erased,
                        "the held machine was decided when its turn came, after the hold");
                var started = lastEraseDecision(order.get(3));
                assertEquals(true, started.get("allowed"));
                assertTrue((Long) started.get("seq") > erased, "started on a decision made when the slot freed");
                assertEquals("QUEUED", outcomes(plan, order).get(4));
                assertEquals("RETAINED", state(order.get(4)));

                // the second one fails (its report refused: ERASE_FAILED): the last one starts, and the plan has nothing queued
                assertEquals("ERASE_FAILED", Erases.report(order.get(1), Erases.token(bmcs, bmc[1]), false, null).getString("state"));
                awaitOutcomes(plan, order, List.of("DONE", "DONE", "REFUSED", "DONE", "DONE"));
                Lifecycle.awaitState(order.get(4), "ERASING");
                var done = Lifecycle.awaitPlan(plan);
                assertEquals("PARTIAL", done.getString("status"));
                assertEquals(4, done.getInt("executed.DONE"));
                assertEquals(1, done.getInt("executed.REFUSED"));
                assertTrue(done.getList("executions.detail", String.class).stream().anyMatch(d -> d.contains("HOLD")));
                Lifecycle.awaitAudit("bulk:" + plan, "bulk.executed", 1);

                Erases.certified(bmcs, bmc[3], order.get(3), null);
                Erases.certified(bmcs, bmc[4], order.get(4), null);
            } finally {
                watching.set(false);
                watcher.join();
            }
            assertTrue(most.get() <= 2, most.get() + " machines were ERASING at once");
            assertEquals(2, most.get());
            // and by the recorded transitions: never more than 2 at once
            int running = 0;
            int peak = 0;
            try (var st = db.prepareStatement("SELECT from_state, to_state FROM state_transition WHERE subject_type = 'MACHINE' "
                    + "AND (from_state = 'ERASING' OR to_state = 'ERASING') ORDER BY at");
                    var rs = st.executeQuery()) {
                while (rs.next()) {
                    running += "ERASING".equals(rs.getString("to_state")) ? 1 : -1;
                    peak = Math.max(peak, running);
                }
            }
            assertEquals(2, peak);
            assertEquals(0, running);
            assertFalse(state(order.get(2)).equals("ERASING"));
        }
    }

    /** A queued machine whose turn comes after its plan expired is not erased on the plan's old approvals. */
    @Test
    void queuedMachinesOfAnExpiredPlanAreRefusedNotStarted() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(3, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 3, "expiry"));
            String plan = operator().body(Map.of("selector", Map.of("leaseId", fleet.lease()), "reason", "reclaim")).post("/api/bulk/erase")
                    .then().statusCode(201).extract().path("id");
            as("approver").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200);
            List<String> order = as("approver", "test-approver-2").body(Map.of()).post("/api/bulk/plans/" + plan + "/approve").then()
                    .statusCode(200).body("allowed", equalTo(3)).extract().jsonPath().getList("decisions.machineId", String.class);
            operator().post("/api/bulk/plans/" + plan + "/execute").then().statusCode(202);
            awaitOutcomes(plan, order, List.of("DONE", "DONE", "QUEUED"));
            // the plan's time runs out while the third waits; the first erase ends and frees a slot
            PostgresTestResource.sql("UPDATE bulk_plan SET expires_at = now() - interval '1 minute' WHERE id = ?::uuid", plan);
            Erases.certified(bmcs, fleet.machines().indexOf(order.get(0)), order.get(0), null);
            awaitOutcomes(plan, order, List.of("DONE", "DONE", "REFUSED"));
            assertEquals("RETAINED", state(order.get(2)));
            assertEquals(-1L, lastEraseDecision(order.get(2)).get("seq"), "never decided on the expired plan");
            var done = Lifecycle.awaitPlan(plan);
            assertEquals("PARTIAL", done.getString("status"));
            assertTrue(done.getList("executions.detail", String.class).stream().anyMatch(d -> d != null && d.contains("expired")));
            Lifecycle.awaitAudit("bulk:" + plan, "bulk.queue-expired", 1);
            Erases.certified(bmcs, fleet.machines().indexOf(order.get(1)), order.get(1), null);
        }
    }
}
