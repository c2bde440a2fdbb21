package io.metalgate.integration;

import static io.metalgate.integration.IntakeFixtures.event;
import static io.metalgate.integration.IntakeFixtures.lease;
import static io.metalgate.integration.IntakeFixtures.tenant;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.PostgresTestResource;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Group commit ({@link GroupCommit}, on by default): single lease events arriving while a batch is written are settled
 * together in the next one, and each sender gets the answer it would have had alone — against the real database, over
 * HTTP, with requests really at the same time.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class GroupCommitTest {

    private static final String SINGLE = "/api/integrations/lease-events";

    @Inject
    MeterRegistry registry;
    @Inject
    InboundEventRepository repository;


    private static ExtractableResponse<Response> send(Map<String, Object> event) {
        return as("billing").body(event).post(SINGLE).then().extract();
    }

    private static long transitions(String lease) {
        return Long.parseLong(sqlValue("SELECT count(*) FROM state_transition t JOIN lease l ON l.id = t.subject_id WHERE l.external_ref = ?", lease));
    }

    /** Runs every task at once (as many threads as tasks) and returns their results in order. */
    private static <T> List<T> atOnce(List<Callable<T>> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(work.size());
        try {
            List<T> out = new ArrayList<>();
            for (Future<T> f : pool.invokeAll(work)) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private DistributionSummary batches() {
        return registry.find("metalgate.intake.group.commit.events").summary();
    }

    /** A trigger that makes PostgreSQL take its time over the events whose external id starts with {@code slow-}. */
    private static void slowDown(boolean on) throws Exception {
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            if (on) {
                st.execute("CREATE OR REPLACE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "IF NEW.external_id LIKE 'slow-%' THEN PERFORM pg_sleep(2); END IF; RETURN NEW; END $$");
                st.execute("CREATE TRIGGER test_slow_insert BEFORE INSERT ON inbound_event FOR EACH ROW EXECUTE FUNCTION test_slow_insert()");
            } else {
                st.execute("DROP TRIGGER IF EXISTS test_slow_insert ON inbound_event");
            }
        }
    }

    @Test
    void eventsArrivingWhileBatchesAreWrittenAreSettledTogetherEachAnsweredAsAlone() throws Exception {
        String tenant = tenant();
        List<String> slow = List.of(lease(tenant), lease(tenant));
        List<String> leases = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            leases.add(lease(tenant));
        }
        DistributionSummary before = batches();
        long batchesBefore = before == null ? 0 : before.count();
        double eventsBefore = before == null ? 0 : before.totalAmount();
        slowDown(true);
        try {
            List<Callable<ExtractableResponse<Response>>> work = new ArrayList<>();
            // two batches that take two seconds each occupy both slots; the 24 events sent meanwhile wait for the next
            for (String l : slow) {
                work.add(() -> send(event(unique("slow"), "ACTIVATED", l)));
            }
            for (String l : leases) {
                work.add(() -> {
                    Thread.sleep(300);
                    return send(event(unique("gc"), "ACTIVATED", l));
                });
            }
            for (ExtractableResponse<Response> r : atOnce(work)) {
                assertEquals(202, r.statusCode(), r.asString());
                assertEquals("APPLIED", r.path("status"), r.asString());
                assertEquals(Boolean.FALSE, r.path("duplicate"), r.asString());
                assertNotNull(r.path("eventId"), r.asString());
            }
        } finally {
            slowDown(false);
        }
        for (String l : leases) {
            assertEquals("ACTIVE", sqlValue("SELECT state FROM lease WHERE external_ref = ?", l), l);
            assertEquals(1, transitions(l), l);
        }
        DistributionSummary after = batches();
        assertEquals(26, after.totalAmount() - eventsBefore, "every event was settled by a batch");
        assertTrue(after.count() - batchesBefore < 26, "26 events in " + (after.count() - batchesBefore) + " transactions: none shared one");
    }

    @Test
    void copiesOfOneEventSentAtOnceApplyItOnceAndAConflictingCopyIsADeadLetter() throws Exception {
        String l = lease(tenant());
        String id = unique("copy");
        List<Callable<ExtractableResponse<Response>>> copies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            copies.add(() -> send(event(id, "ACTIVATED", l)));
        }
        List<ExtractableResponse<Response>> answers = atOnce(copies);
        assertEquals(1, answers.stream().filter(r -> r.statusCode() == 202).count(), answers.stream().map(r -> r.statusCode() + " " + r.asString())
                .toList().toString());
        for (ExtractableResponse<Response> r : answers) {
            if (r.statusCode() != 202) {
                assertEquals(200, r.statusCode(), r.asString());
                assertEquals(Boolean.TRUE, r.path("duplicate"), r.asString());
                assertEquals("APPLIED", r.path("status"), r.asString());
            }
        }
        assertEquals(1, transitions(l));
        assertEquals("1", sqlValue("SELECT count(*) FROM inbound_event WHERE external_id = ?", id));

        // the same key with other content, four ways at once beside four true copies: each a conflict, kept as a dead letter
        List<Callable<ExtractableResponse<Response>>> mixed = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            mixed.add(() -> send(event(id, "ACTIVATED", l)));
            mixed.add(() -> send(event(id, "PAYMENT_OVERDUE", l)));
        }
        List<ExtractableResponse<Response>> replies = atOnce(mixed);
        for (int i = 0; i < replies.size(); i++) {
            ExtractableResponse<Response> r = replies.get(i);
            if (i % 2 == 0) {
                assertEquals(200, r.statusCode(), r.asString());
            } else {
                assertEquals(409, r.statusCode(), r.asString());
                assertNotNull(r.path("deadLetterId"), r.asString());
            }
        }
        assertEquals(1, transitions(l));
        assertEquals("ACTIVE", sqlValue("SELECT state FROM lease WHERE external_ref = ?", l));
    }

    @Test
    void aBatchPostgresqlRefusesLeavesEachEventToTheRouteAndNothingIsLost() throws Exception {
        String tenant = tenant();
        List<String> slow = List.of(lease(tenant), lease(tenant));
        List<String> leases = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            leases.add(lease(tenant));
        }
        String poisoned = lease(tenant);
        String poison = unique("poison");
        DistributionSummary before = batches();
        double settledBefore = before == null ? 0 : before.totalAmount();
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            st.execute("CREATE OR REPLACE FUNCTION test_refuse_poison_gc() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF NEW.external_id LIKE 'poison-%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$");
            st.execute("CREATE TRIGGER test_refuse_poison_gc BEFORE INSERT ON inbound_event FOR EACH ROW EXECUTE FUNCTION test_refuse_poison_gc()");
        }
        slowDown(true);
        List<ExtractableResponse<Response>> answers;
        try {
            // two slowed batches hold both slots; the poisoned event and the good ones queue and share the next batch,
            // which PostgreSQL refuses: each then goes through the route alone
            List<Callable<ExtractableResponse<Response>>> work = new ArrayList<>();
            work.add(() -> {
                Thread.sleep(300);
                return send(event(poison, "ACTIVATED", poisoned));
            });
            for (String l : leases) {
                work.add(() -> {
                    Thread.sleep(300);
                    return send(event(unique("good"), "ACTIVATED", l));
                });
            }
            for (String l : slow) {
                work.add(() -> send(event(unique("slow"), "ACTIVATED", l)));
            }
            answers = atOnce(work);
        } finally {
            slowDown(false);
            try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
                st.execute("DROP TRIGGER test_refuse_poison_gc ON inbound_event");
            }
        }
        // the refused one: kept as a dead letter, answered 503 so its sender sends it again; every other one applied
        assertEquals(503, answers.get(0).statusCode(), answers.get(0).asString());
        assertEquals("1", sqlValue("SELECT count(*) FROM dead_letter WHERE body LIKE ?", "%" + poison + "%"));
        for (int i = 1; i < answers.size(); i++) {
            assertEquals(202, answers.get(i).statusCode(), answers.get(i).asString());
        }
        for (String l : leases) {
            assertEquals(1, transitions(l), l);
        }
        // a batch that shared the poison settled nothing: the good events the route applied are not counted as settled
        assertTrue(batches().totalAmount() - settledBefore < 10, "settled by batches: " + (batches().totalAmount() - settledBefore));
    }

    /**
     * Events group commit does not settle — a note, a hold, a preservation-worded event, a conflicting copy, what a
     * batch request leaves — go on through the route on a thread that may block: the idempotency lookup never refuses
     * one for coming on an event loop (it did, and the error handler's retry hid it behind a 200 ms delay).
     */
    @Test
    void eventsLeftToTheRouteNeverReachItsLookupOnAnEventLoop() throws Exception {
        String tenant = tenant();
        String l = lease(tenant);
        long refusedBefore = repository.refusedOnEventLoop();
        String id = unique("first");
        assertEquals(202, send(event(id, "ACTIVATED", l)).statusCode());
        Map<String, Object> note = event(unique("note"), null, l);
        note.remove("type");
        note.put("action", "NOTE");
        note.put("text", "customer called about the invoice");
        Map<String, Object> preservation = event(unique("pres"), "PAYMENT_OVERDUE", l);
        preservation.put("details", Map.of("comment", "our lawyers ask you to preserve all data on these servers"));
        List<Callable<ExtractableResponse<Response>>> work = new ArrayList<>();
        work.add(() -> send(note));
        work.add(() -> send(preservation));
        work.add(() -> send(event(id, "PAYMENT_OVERDUE", l))); // a conflicting copy
        work.add(() -> as("billing").body(List.of(event(id, "SUSPENDED", l), event(unique("b"), "PAYMENT_OVERDUE", l)))
                .post(SINGLE + "/batch").then().extract());
        for (ExtractableResponse<Response> r : atOnce(work)) {
            assertTrue(r.statusCode() < 500, r.statusCode() + " " + r.asString());
        }
        assertEquals(refusedBefore, repository.refusedOnEventLoop(), "lookups refused on an event loop");
    }
}
