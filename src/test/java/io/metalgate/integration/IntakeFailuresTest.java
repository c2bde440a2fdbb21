package io.metalgate.integration;

import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.AdviceWith;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The intake route when acting on an event fails (advised with AdviceWith: the "apply" step throws while
 * {@link #broken} is set): the event stays stored, the message is a dead letter answered 503, and the
 * event is acted on exactly once later, by a resend or by the recovery sweep, even when both run at once.
 * Its own application instance (a profile), because the route is changed, and recovery's own schedule is
 * pushed out of the way so the test decides when it runs.
 */
@QuarkusTest
@TestProfile(IntakeFailuresTest.Profile.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IntakeFailuresTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("metalgate.integrations.recovery-delay", "1h", "metalgate.integrations.recovery-interval", "1h");
        }
    }

    static final AtomicBoolean broken = new AtomicBoolean();
    private static final AtomicBoolean advised = new AtomicBoolean();

    @Inject
    CamelContext camel;
    @Inject
    IntakeRecovery recovery;
    @Inject
    LeaseEventIntake intake;

    @BeforeEach
    void advise() throws Exception {
        if (advised.compareAndSet(false, true)) {
            AdviceWith.adviceWith(camel, "lease-event-intake", a -> {
                // while broken, events skip the group commit (which would settle them in a batch, never reaching the
                // broken step) and fail one by one in the route; once mended, a resend goes through group commit again
                a.weaveById("group-commit").before().process(ex -> {
                    if (broken.get()) {
                        ex.getMessage().setHeader(LeaseEventRoutes.ALONE, true);
                    }
                });
                a.weaveById("apply").before().process(ex -> {
                    if (broken.get()) {
                        throw new IllegalStateException("the database went away");
                    }
                });
            });
        }
        broken.set(false);
    }

    private static String lease() {
        String tenant = operator().body(Map.of("name", unique("t"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        String ref = unique("L");
        operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        return ref;
    }

    private static Map<String, Object> activated(String ref) {
        return Map.of("source", "billing", "externalId", unique("evt"), "type", "ACTIVATED", "leaseRef", ref);
    }

    private static String eventStatus(String source, String externalId) {
        return sqlValue("SELECT status FROM inbound_event WHERE source = 'billing' AND external_id = ?", externalId);
    }

    private static long transitions(String ref) {
        return Long.parseLong(sqlValue("SELECT count(*) FROM state_transition t JOIN lease l ON l.id = t.subject_id WHERE l.external_ref = ?", ref));
    }

    private Object recoverNow() throws Exception {
        try {
            return VertxContextSupport.subscribeAndAwait(() -> recovery.recover(Duration.ZERO));
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Test
    void aFailureAfterStoringIsADeadLetterAndTheResendActsOnTheStoredEvent() {
        String ref = lease();
        Map<String, Object> event = activated(ref);
        broken.set(true);
        String deadLetter = as("billing").body(event).post("/api/integrations/lease-events").then().statusCode(503)
                .header("Retry-After", "30").contentType("application/problem+json").body("deadLetterId", notNullValue())
                .body("detail", containsString("the database went away")).extract().path("deadLetterId");
        assertEquals("RECEIVED", eventStatus("billing", (String) event.get("externalId")));
        assertEquals("PENDING", sqlValue("SELECT state FROM lease WHERE external_ref = ?", ref));
        assertEquals("OPEN", sqlValue("SELECT status FROM dead_letter WHERE id = ?::uuid", deadLetter));

        broken.set(false);
        // the resend is a repeat of a stored event that was never acted on: it is acted on now
        as("billing").body(event).post("/api/integrations/lease-events").then().statusCode(200).body("duplicate", equalTo(true))
                .body("status", equalTo("APPLIED"));
        assertEquals("ACTIVE", sqlValue("SELECT state FROM lease WHERE external_ref = ?", ref));
        as("billing").body(event).post("/api/integrations/lease-events").then().statusCode(200).body("status", equalTo("APPLIED"));
        assertEquals(1, transitions(ref));
        // applying an event already applied (a recovery sweep that lost the race) claims nothing and moves nothing
        String id = sqlValue("SELECT id FROM inbound_event WHERE external_id = ?", (String) event.get("externalId"));
        IntakeResult again = await(() -> intake.apply(java.util.UUID.fromString(id), new LeaseEvent("billing", (String) event.get("externalId"),
                LeaseEvent.Type.ACTIVATED, ref, null, null), "test"));
        assertEquals(IntakeResult.Outcome.DUPLICATE, again.outcome());
        assertEquals("APPLIED", again.status());
        assertEquals(1, transitions(ref));
    }

    private static <T> T await(java.util.function.Supplier<io.smallrye.mutiny.Uni<T>> work) {
        try {
            return VertxContextSupport.subscribeAndAwait(work);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Test
    void recoveryAndResendsRacingActOnAStoredEventOnce() throws Throwable {
        List<String> refs = new ArrayList<>();
        List<Map<String, Object>> events = new ArrayList<>();
        broken.set(true);
        for (int i = 0; i < 6; i++) {
            String ref = lease();
            refs.add(ref);
            Map<String, Object> e = activated(ref);
            events.add(e);
            as("billing").body(e).post("/api/integrations/lease-events").then().statusCode(503);
        }
        broken.set(false);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Object>> work = new ArrayList<>();
            work.add(this::recoverNow);
            for (Map<String, Object> e : events) {
                work.add(() -> as("billing").body(e).post("/api/integrations/lease-events").then().statusCode(200).extract().path("status"));
            }
            work.add(this::recoverNow);
            List<Future<Object>> done = pool.invokeAll(work);
            for (int i = 1; i <= events.size(); i++) {
                // each resend is answered with what became of the one stored event: applied (by it or by another)
                assertEquals("APPLIED", done.get(i).get(), "resend " + i);
            }
            done.get(0).get();
            done.get(done.size() - 1).get();
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < refs.size(); i++) {
            assertEquals("ACTIVE", sqlValue("SELECT state FROM lease WHERE external_ref = ?", refs.get(i)));
            assertEquals(1, transitions(refs.get(i)), "lease " + refs.get(i) + " moved once");
            assertEquals("APPLIED", eventStatus("billing", (String) events.get(i).get("externalId")));
        }
        assertEquals(0, (int) VertxContextSupport.subscribeAndAwait(() -> recovery.recover(Duration.ZERO)));
    }

    @Test
    void recoveryAppliesInArrivalOrderAndAnEventTheLeaseRefusesIsKeptAsRejected() throws Throwable {
        String ref = lease();
        Map<String, Object> activate = activated(ref);
        Map<String, Object> overdue = Map.of("source", "billing", "externalId", unique("evt"), "type", "PAYMENT_OVERDUE", "leaseRef", ref);
        Map<String, Object> again = activated(ref);
        broken.set(true);
        for (Map<String, Object> e : List.of(activate, overdue, again)) {
            as("billing").body(e).post("/api/integrations/lease-events").then().statusCode(503);
        }
        broken.set(false);
        assertEquals(3, (int) VertxContextSupport.subscribeAndAwait(() -> recovery.recover(Duration.ZERO)));
        assertEquals("OVERDUE", sqlValue("SELECT state FROM lease WHERE external_ref = ?", ref));
        assertEquals("APPLIED", eventStatus("billing", (String) activate.get("externalId")));
        assertEquals("APPLIED", eventStatus("billing", (String) overdue.get("externalId")));
        assertEquals("REJECTED", eventStatus("billing", (String) again.get("externalId")));
        assertEquals("metalgate/intake-recovery", sqlValue("SELECT actor FROM state_transition t JOIN lease l ON l.id = t.subject_id "
                + "WHERE l.external_ref = ? AND t.event = 'PAYMENT_OVERDUE'", ref));
    }
}
