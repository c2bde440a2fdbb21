package io.metalgate.integration;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Signed webhook integrations over HTTP against the real database: the signature is the only way in,
 * events carry the integration's name, foreign payloads are mapped, and what cannot be processed is a
 * dead letter a billing person can replay once its cause is fixed.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class WebhookIntegrationTest {

    private static String lease() {
        String tenant = operator().body(Map.of("name", unique("t"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        String ref = unique("sub");
        operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        return ref;
    }

    private static String leaseState(String ref) {
        return sqlValue("SELECT state FROM lease WHERE external_ref = ?", ref);
    }

    private static Response send(String name, String header, String secret, long t, String body) {
        return given().header(header, WebhookSignature.header(secret.getBytes(StandardCharsets.UTF_8), t, body.getBytes(StandardCharsets.UTF_8)))
                .contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8)).post("/api/integrations/webhooks/" + name);
    }

    private static long now() {
        return Instant.now().getEpochSecond();
    }

    private static long count(String table) {
        return Long.parseLong(sqlValue("SELECT count(*) FROM " + table + " WHERE ? IS NOT NULL", "x"));
    }

    @Test
    void onlyASignedRequestGetsInAndItSpeaksInItsIntegrationsName() {
        String name = unique("billing");
        String secret = admin().body(Map.of("name", name, "kind", "BILLING_WEBHOOK")).post("/api/integrations").then().statusCode(201)
                .body("integration.endpoint", equalTo("/api/integrations/webhooks/" + name))
                .body("integration.signatureHeader", equalTo("Metalgate-Signature")).body("integration.toleranceSeconds", equalTo(300))
                .extract().path("secret");
        // the secret is shown once: never listed, never audited, stored encrypted
        operator().get("/api/integrations/" + name).then().statusCode(200).body("secret", nullValue()).body(not(containsString(secret)));
        admin().queryParam("subject", "integration:" + name).get("/api/audit").then().body("items.action", hasItem("integration.created"))
                .body(not(containsString(secret)));
        String stored = sqlValue("SELECT secret FROM integration WHERE name = ?", name);
        assertFalse(stored.contains(secret));
        operator().body(Map.of("name", unique("x"), "kind", "BILLING_WEBHOOK")).post("/api/integrations").then().statusCode(403);
        admin().body(Map.of("name", name, "kind", "BILLING_WEBHOOK")).post("/api/integrations").then().statusCode(409);
        admin().body(Map.of("name", "Bad Name", "kind", "BILLING_WEBHOOK")).post("/api/integrations").then().statusCode(400)
                .body("errors.field", hasItem("name"));

        String ref = lease();
        String ext = unique("evt");
        // the body names another source: the integration's name wins (one integration cannot speak for another)
        String body = "{\"source\":\"someone-else\",\"externalId\":\"" + ext + "\",\"type\":\"ACTIVATED\",\"leaseRef\":\"" + ref + "\"}";
        long events = count("inbound_event");
        long deadLetters = count("dead_letter");
        send(name, "Metalgate-Signature", "wrong-secret-wrong-secret-wrong-secret", now(), body).then().statusCode(401)
                .contentType("application/problem+json").body("detail", containsString("no v1 signature matches"));
        send(name, "Metalgate-Signature", secret, now() - 600, body).then().statusCode(401).body("detail", containsString("outside the tolerance"));
        given().contentType("application/json").body(body).post("/api/integrations/webhooks/" + name).then().statusCode(401)
                .body("detail", containsString("no signature header"));
        send(unique("nobody"), "Metalgate-Signature", secret, now(), body).then().statusCode(404);
        // refused requests are not stored anywhere
        assertEquals(events, count("inbound_event"));
        assertEquals(deadLetters, count("dead_letter"));
        assertEquals("PENDING", leaseState(ref));

        String eventId = send(name, "Metalgate-Signature", secret, now(), body).then().statusCode(202).body("status", equalTo("APPLIED"))
                .extract().path("eventId");
        assertEquals("ACTIVE", leaseState(ref));
        assertEquals(name, sqlValue("SELECT source FROM inbound_event WHERE id = ?::uuid", eventId));
        send(name, "Metalgate-Signature", secret, now(), body).then().statusCode(200).body("duplicate", equalTo(true))
                .body("eventId", equalTo(eventId));

        // a rotated secret: the old one stops at once
        String rotated = admin().post("/api/integrations/" + name + "/secret").then().statusCode(200).extract().path("secret");
        assertNotEquals(secret, rotated);
        String overdue = body.replace(ext, ext + "-2").replace("ACTIVATED", "PAYMENT_OVERDUE");
        send(name, "Metalgate-Signature", secret, now(), overdue).then().statusCode(401);
        send(name, "Metalgate-Signature", rotated, now(), overdue).then().statusCode(202);
        // disabled: as if it did not exist
        admin().body(Map.of("enabled", false)).patch("/api/integrations/" + name).then().statusCode(200).body("enabled", equalTo(false));
        send(name, "Metalgate-Signature", rotated, now(), overdue.replace("-2", "-3")).then().statusCode(404);
    }

    @Test
    void aForeignPayloadIsMappedAndOneThatIsNotIsADeadLetterReplayedOnceItsMapIsFixed() {
        String name = unique("stripe");
        String secret = Integrations.newSecret();
        Map<String, Object> mapping = Map.of("externalId", "/id", "type", "/type", "types", Map.of("invoice.payment_failed", "PAYMENT_OVERDUE"),
                "leaseRef", "/data/object/subscription", "occurredAt", "/created");
        admin().body(Map.of("name", name, "kind", "BILLING_WEBHOOK", "secret", secret, "signatureHeader", "Stripe-Signature", "mapping", mapping))
                .post("/api/integrations").then().statusCode(201).body("secret", nullValue())
                .body("integration.mapping.leaseRef", equalTo("/data/object/subscription"));
        String ref = lease();
        admin().body(Map.of("enabled", true)).patch("/api/integrations/" + name).then().statusCode(200);
        // activate through the plain API channel first (billing's token), so PAYMENT_OVERDUE is allowed
        as("billing").body(Map.of("source", "crm", "externalId", unique("a"), "type", "ACTIVATED", "leaseRef", ref))
                .post("/api/integrations/lease-events").then().statusCode(202);

        String evt = "evt_" + unique("x");
        String failed = "{\"id\":\"" + evt + "\",\"object\":\"event\",\"created\":1686089970,\"type\":\"invoice.payment_failed\","
                + "\"data\":{\"object\":{\"id\":\"in_1\",\"subscription\":\"" + ref + "\"}}}";
        send(name, "Stripe-Signature", secret, now(), failed).then().statusCode(202).body("status", equalTo("APPLIED"));
        assertEquals("OVERDUE", leaseState(ref));

        // an event the map does not know: a dead letter holding the body as it came, answered 400 naming the field
        String evt2 = "evt_" + unique("y");
        String paid = failed.replace(evt, evt2).replace("invoice.payment_failed", "invoice.paid");
        String dl = send(name, "Stripe-Signature", secret, now(), paid).then().statusCode(400).body("errors.field", hasItem("type"))
                .body("deadLetterId", notNullValue()).extract().path("deadLetterId");
        as("legal").get("/api/integrations/dead-letters/" + dl).then().statusCode(200).body("body", equalTo(paid))
                .body("channel", equalTo("webhook:" + name)).body("status", equalTo("OPEN")).body("reason", containsString("invoice.paid"));
        operator().queryParam("channel", "webhook:" + name).get("/api/integrations/dead-letters").then().statusCode(200)
                .body("items.id", hasItem(dl)).body("items[0].body", nullValue());
        as("viewer").get("/api/integrations/dead-letters").then().statusCode(403);

        // replaying before the cause is fixed fails again, recorded on the same dead letter
        as("billing").post("/api/integrations/dead-letters/" + dl + "/replay").then().statusCode(200).body("outcome", equalTo("INVALID"))
                .body("eventId", nullValue());
        as("legal").get("/api/integrations/dead-letters/" + dl).then().body("replays", equalTo(1)).body("status", equalTo("OPEN"));
        // operators do not send lease events: they cannot replay one
        operator().post("/api/integrations/dead-letters/" + dl + "/replay").then().statusCode(403);

        admin().body(Map.of("mapping", Map.of("externalId", "/id", "type", "/type", "types", Map.of("invoice.payment_failed", "PAYMENT_OVERDUE",
                "invoice.paid", "PAYMENT_RECEIVED"), "leaseRef", "/data/object/subscription"))).patch("/api/integrations/" + name).then()
                .statusCode(200);
        String replayed = as("billing").post("/api/integrations/dead-letters/" + dl + "/replay").then().statusCode(200)
                .body("outcome", equalTo("APPLIED")).extract().path("eventId");
        assertEquals("ACTIVE", leaseState(ref));
        assertEquals(name, sqlValue("SELECT source FROM inbound_event WHERE id = ?::uuid", replayed));
        as("legal").get("/api/integrations/dead-letters/" + dl).then().body("status", equalTo("REPLAYED")).body("replayEventId", equalTo(replayed))
                .body("replayedBy", equalTo("test-billing"));
        as("billing").post("/api/integrations/dead-letters/" + dl + "/replay").then().statusCode(409);
        admin().queryParam("subject", "dead-letter:" + dl).get("/api/audit").then()
                .body("items.action", hasItem("integration.dead-letter-replayed"));
        // the replayed event is the sender's event: sent again, it is a repeat
        send(name, "Stripe-Signature", secret, now(), paid).then().statusCode(200).body("eventId", equalTo(replayed));
    }
}
