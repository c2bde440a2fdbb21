package io.metalgate.integration;

import static io.metalgate.integration.IntakeFixtures.event;
import static io.metalgate.integration.IntakeFixtures.lease;
import static io.metalgate.integration.IntakeFixtures.tenant;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Lease events in batches ({@link BatchIntake}, over {@code POST /api/integrations/lease-events/batch}; Kafka polls take
 * the same path): each event settled as it would be alone, in order, exactly once, against the real database.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BatchIntakeTest {

    private static final String BATCH = "/api/integrations/lease-events/batch";


    private static List<Map<String, Object>> send(List<?> events) {
        return as("billing").body(events).post(BATCH).then().statusCode(200).extract().path("results");
    }

    private static String state(String lease) {
        return sqlValue("SELECT state FROM lease WHERE external_ref = ?", lease);
    }

    private static long transitions(String lease) {
        return Long.parseLong(sqlValue("SELECT count(*) FROM state_transition t JOIN lease l ON l.id = t.subject_id WHERE l.external_ref = ?", lease));
    }

    @Test
    void eachEventIsSettledAsItWouldBeAloneInOrderAndOnce() {
        String tenant = tenant();
        String a = lease(tenant);
        String b = lease(tenant);
        String unknown = unique("nolease");
        String e1 = unique("e"), e2 = unique("e"), closed = unique("e"), stray = unique("e"), asks = unique("e"), after = unique("e");
        Map<String, Object> preserve = event(asks, "ACTIVATED", b);
        preserve.put("details", Map.of("note", "our lawyers ask you to preserve all data: litigation pending"));
        Map<String, Object> otherContent = event(e2, "TERMINATED", a);
        List<Object> batch = List.of(event(e1, "ACTIVATED", a), event(e2, "PAYMENT_OVERDUE", a), event(e1, "ACTIVATED", a),
                event(closed, "CLOSED", b), event(stray, "ACTIVATED", unknown), otherContent, Map.of("not", "an event"), preserve,
                event(after, "PAYMENT_OVERDUE", b));

        List<Map<String, Object>> r = send(batch);
        assertEquals(9, r.size(), r.toString());
        List<String> outcomes = r.stream().map(x -> (String) x.get("outcome")).toList();
        assertEquals(List.of("APPLIED", "APPLIED", "DUPLICATE", "REJECTED", "UNKNOWN_LEASE", "CONFLICT", "INVALID", "APPLIED", "APPLIED"), outcomes);
        assertEquals(r.get(0).get("eventId"), r.get(2).get("eventId"), "a repeat in the batch names the first copy");
        assertEquals(409, r.get(3).get("httpStatus"));
        assertEquals("urn:metalgate:problem:illegal-transition", ((Map<?, ?>) r.get(3).get("problem")).get("type"));
        assertTrue(((List<?>) ((Map<?, ?>) r.get(3).get("problem")).get("allowedEvents")).contains("ACTIVATED"), r.get(3).toString());
        assertEquals(422, r.get(4).get("httpStatus"));
        assertTrue(r.get(5).get("deadLetterId") != null && r.get(6).get("deadLetterId") != null, r.toString());

        // the leases moved in the batch's order; the preservation-worded event held B's tenant before it applied
        assertEquals("OVERDUE", state(a));
        assertEquals("OVERDUE", state(b));
        assertEquals(2, transitions(a));
        assertEquals(2, transitions(b));
        assertEquals("test-billing", sqlValue("SELECT string_agg(DISTINCT actor, ',') FROM state_transition t JOIN lease l ON l.id = t.subject_id "
                + "WHERE l.external_ref = ?", a));
        assertEquals("1", sqlValue("SELECT count(*) FROM hold WHERE tenant_id = CAST(? AS uuid) AND kind = 'PRESERVATION_REQUEST'", tenant));
        // the hold placed with the event that asked for it (in the transaction that stores it), before that event moved its lease
        assertEquals("lease.event.received,hold.placed,lease.transitioned", sqlValue("SELECT string_agg(action, ',' ORDER BY seq) FROM audit_entry "
                + "WHERE seq >= (SELECT min(seq) FROM audit_entry WHERE action = 'lease.event.received' AND payload::json ->> 'externalId' = ?) "
                + "AND action IN ('hold.placed', 'lease.event.received', 'lease.transitioned') AND seq <= (SELECT min(seq) FROM audit_entry "
                + "WHERE action = 'lease.transitioned' AND payload::json ->> 'to' = 'ACTIVE' AND subject = (SELECT 'lease:' || id FROM lease "
                + "WHERE external_ref = '" + b + "'))", asks));
        assertEquals("REJECTED", sqlValue("SELECT status FROM inbound_event WHERE external_id = ?", closed));
        assertEquals("UNKNOWN_LEASE", sqlValue("SELECT status FROM inbound_event WHERE external_id = ?", stray));
        // audited in order: each event's arrival, then its move
        String trail = sqlValue("WITH l AS (SELECT id, external_ref FROM lease WHERE external_ref = ?) SELECT string_agg(action || ':' || "
                + "coalesce(payload::json ->> 'to', '-'), ',' ORDER BY seq) FROM audit_entry, l WHERE subject = 'lease-ref:' || l.external_ref "
                + "OR subject = 'lease:' || l.id", a);
        assertEquals("lease.created:-,lease.event.received:-,lease.transitioned:ACTIVE,lease.event.received:-,lease.transitioned:OVERDUE", trail);

        // the whole batch again: nothing moves twice, nothing stored twice
        List<Map<String, Object>> again = send(batch);
        assertEquals(List.of("DUPLICATE", "DUPLICATE", "DUPLICATE", "DUPLICATE", "DUPLICATE", "CONFLICT", "INVALID", "DUPLICATE", "DUPLICATE"),
                again.stream().map(x -> (String) x.get("outcome")).toList());
        assertEquals(2, transitions(a));
        assertEquals(2, transitions(b));
        assertEquals("1", sqlValue("SELECT count(*) FROM inbound_event WHERE external_id = ?", e1));
        assertEquals("1", sqlValue("SELECT count(*) FROM hold WHERE tenant_id = CAST(? AS uuid) AND kind = 'PRESERVATION_REQUEST'", tenant));
    }

    @Test
    void anEventStoredButNeverAppliedIsAppliedByTheBatchThatRepeatsIt() {
        String a = lease(tenant());
        String e1 = unique("e");
        as("billing").body(event(e1, "ACTIVATED", a)).post("/api/integrations/lease-events").then().statusCode(202);
        // as if the appliance died between storing the event and applying it
        PostgresTestResource.sql("UPDATE inbound_event SET status = 'RECEIVED' WHERE external_id = ?", e1);
        PostgresTestResource.sql("UPDATE lease SET state = 'PENDING' WHERE external_ref = ?", a);
        List<Map<String, Object>> r = send(List.of(event(e1, "ACTIVATED", a)));
        assertEquals("DUPLICATE", r.get(0).get("outcome"));
        assertEquals("APPLIED", r.get(0).get("status"));
        assertEquals("ACTIVE", state(a));
        assertEquals("APPLIED", sqlValue("SELECT status FROM inbound_event WHERE external_id = ?", e1));
    }

    @Test
    void anEventSentBeforeItsLeaseExistedIsAppliedWhenSentAgainAfter() {
        String tenant = tenant();
        String single = unique("later"), batched = unique("later");
        String e1 = unique("e"), e2 = unique("e");
        as("billing").body(event(e1, "ACTIVATED", single)).post("/api/integrations/lease-events").then().statusCode(422);
        assertEquals("UNKNOWN_LEASE", send(List.of(event(e2, "ACTIVATED", batched))).get(0).get("outcome"));
        // a resend while the lease is still unknown changes nothing
        as("billing").body(event(e1, "ACTIVATED", single)).post("/api/integrations/lease-events").then().statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("UNKNOWN_LEASE"));
        for (String ref : List.of(single, batched)) {
            operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        }
        as("billing").body(event(e1, "ACTIVATED", single)).post("/api/integrations/lease-events").then().statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("APPLIED"));
        List<Map<String, Object>> r = send(List.of(event(e2, "ACTIVATED", batched)));
        assertEquals("DUPLICATE", r.get(0).get("outcome"));
        assertEquals("APPLIED", r.get(0).get("status"));
        for (String ref : List.of(single, batched)) {
            assertEquals("ACTIVE", state(ref));
            assertEquals(1, transitions(ref));
            assertEquals("1", sqlValue("SELECT count(*) FROM audit_entry WHERE action = 'lease.event.target-found' AND subject = ?",
                    "lease-ref:" + ref));
        }
        // and only once: sent a third time, nothing moves
        as("billing").body(event(e1, "ACTIVATED", single)).post("/api/integrations/lease-events").then().statusCode(200);
        send(List.of(event(e2, "ACTIVATED", batched)));
        assertEquals(1, transitions(single));
        assertEquals(1, transitions(batched));
    }

    @Test
    void anEventPostgresqlRefusesIsADeadLetterAndTheRestOfItsBatchIsApplied() throws Exception {
        String tenant = tenant();
        String a = lease(tenant);
        String good = unique("e"), poison = unique("poison");
        // an instant PostgreSQL cannot keep is refused before anything is stored
        Map<String, Object> far = event(unique("e"), "ACTIVATED", lease(tenant));
        far.put("occurredAt", "+295000-01-01T00:00:00Z");
        List<Map<String, Object>> refused = send(List.of(far));
        assertEquals("INVALID", refused.get(0).get("outcome"), refused.toString());
        // a row the database refuses (here: a trigger the test adds) fails the batch; the route then keeps each event or
        // dead-letters it, so the rest of the batch is applied and nothing stalls
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            st.execute("CREATE OR REPLACE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF NEW.external_id LIKE 'poison-%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$");
            st.execute("CREATE TRIGGER test_refuse_poison BEFORE INSERT ON inbound_event FOR EACH ROW EXECUTE FUNCTION test_refuse_poison()");
        }
        try {
            List<Map<String, Object>> r = send(List.of(event(good, "ACTIVATED", a), event(poison, "ACTIVATED", lease(tenant))));
            assertEquals("APPLIED", r.get(0).get("outcome"), r.toString());
            assertEquals("FAILED", r.get(1).get("outcome"), r.toString());
            assertTrue(r.get(1).get("deadLetterId") != null, r.toString());
        } finally {
            try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
                st.execute("DROP TRIGGER test_refuse_poison ON inbound_event");
            }
        }
        assertEquals("ACTIVE", state(a));
        assertEquals("1", sqlValue("SELECT count(*) FROM dead_letter WHERE body LIKE ?", "%" + poison + "%"));
    }

    @Test
    void batchesAndSingleEventsRacingOverTheSameEventsApplyEachOnce() throws Exception {
        String tenant = tenant();
        List<String> leases = new ArrayList<>();
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String l = lease(tenant);
            leases.add(l);
            events.add(event(unique("r"), "ACTIVATED", l));
            events.add(event(unique("r"), "PAYMENT_OVERDUE", l));
        }
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Callable<Object>> work = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                work.add(() -> send(events));
                work.add(() -> {
                    for (Map<String, Object> e : events) {
                        int code = as("billing").body(e).post("/api/integrations/lease-events").then().extract().statusCode();
                        // a single event that overtook its lease's first one is refused (409) and kept; the batch applies the first
                        assertTrue(code == 202 || code == 200 || code == 409, "status " + code);
                    }
                    return null;
                });
            }
            for (Future<Object> f : pool.invokeAll(work)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (String l : leases) {
            String s = state(l);
            long moves = transitions(l);
            assertTrue(("OVERDUE".equals(s) && moves == 2) || ("ACTIVE".equals(s) && moves == 1), l + ": " + s + " after " + moves + " move(s)");
        }
        for (Map<String, Object> e : events) {
            assertEquals("1", sqlValue("SELECT count(*) FROM inbound_event WHERE external_id = ?", (String) e.get("externalId")));
        }
    }
}
