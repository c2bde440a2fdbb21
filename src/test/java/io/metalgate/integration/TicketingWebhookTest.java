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
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.evidence.AuditHashes;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Ticketing webhooks over HTTP against the real database, with Zendesk's documented ticket-event bodies
 * (fixtures under {@code zendesk/}, see their SOURCE.md) through the built-in {@code zendesk} preset: a comment
 * is a note kept against the tenant, a tag asks for a preservation or dispute hold, placed once however often
 * the ticket system resends it; a hold on an unknown organization is kept and audited for review, never dropped.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class TicketingWebhookTest {

    /** Signed as Zendesk signs (the zendesk preset's integrations check Zendesk's scheme). */
    private static Response send(String name, String secret, String body) {
        String ts = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        return given().header("X-Zendesk-Webhook-Signature", WebhookSignature.zendesk(secret.getBytes(StandardCharsets.UTF_8), ts,
                body.getBytes(StandardCharsets.UTF_8))).header("X-Zendesk-Webhook-Signature-Timestamp", ts)
                .contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8)).post("/api/integrations/webhooks/" + name);
    }

    /** Signed metalgate's way: refused by a zendesk-scheme integration. */
    private static Response sendMetalgateSigned(String name, String secret, String body) {
        return given().header("Metalgate-Signature", WebhookSignature.header(secret.getBytes(StandardCharsets.UTF_8),
                Instant.now().getEpochSecond(), body.getBytes(StandardCharsets.UTF_8)))
                .contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8)).post("/api/integrations/webhooks/" + name);
    }

    private static List<Map<String, Object>> holds(String tenant) {
        return as("viewer").queryParam("tenantId", tenant).get("/api/holds").then().statusCode(200).extract().jsonPath().getList("");
    }

    private static String zendesk(String fixture, Map<String, String> values) throws Exception {
        return FieldMapTest.zendesk(fixture, values);
    }

    @Test
    void zendeskCommentsAreNotesAndTagsPlaceHoldsOnce() throws Exception {
        String name = unique("zendesk");
        String secret = Integrations.newSecret();
        admin().body(Map.of("name", name, "kind", "TICKETING_WEBHOOK", "secret", secret, "preset", "zendesk")).post("/api/integrations")
                .then().statusCode(201).body("integration.mapping.tenantRef", equalTo("/detail/organization_id"))
                .body("integration.mapping.actions.preservation_request", equalTo("PRESERVATION_REQUEST"));
        admin().body(Map.of("name", unique("zd"), "kind", "TICKETING_WEBHOOK", "preset", "helpdesk-9000")).post("/api/integrations").then()
                .statusCode(400).contentType("application/problem+json").body("errors.field", hasItem("preset"));
        admin().body(Map.of("name", unique("zd"), "kind", "TICKETING_WEBHOOK", "preset", "zendesk", "mapping", Map.of("externalId", "/id",
                "type", "/t", "leaseRef", "/l"))).post("/api/integrations").then().statusCode(400).body("errors.field", hasItem("preset"));

        String org = unique("org");
        String tenant = operator().body(Map.of("name", unique("zt"), "externalRef", org)).post("/api/tenants").then().statusCode(201).extract()
                .path("id");
        String leaseRef = unique("lease");
        operator().body(Map.of("tenantId", tenant, "externalRef", leaseRef)).post("/api/leases").then().statusCode(201);

        // a comment: a note, stored and audited against the tenant with the text's hash; no hold
        String text = "Thanks, we will pick up the cables on Friday.";
        String commentId = unique("zc");
        String comment = zendesk("comment_added.json", Map.of("EVENT-ID", commentId, "ORG-ID", org, "LEASE-REF", leaseRef, "COMMENT", text));
        sendMetalgateSigned(name, secret, comment).then().statusCode(401).body("detail", containsString("X-Zendesk"));
        String noteEvent = send(name, secret, comment).then().statusCode(202).body("status", equalTo("APPLIED")).extract().path("eventId");
        assertEquals("NOTE", sqlValue("SELECT event_type FROM inbound_event WHERE id = ?::uuid", noteEvent));
        assertEquals(org, sqlValue("SELECT tenant_ref FROM inbound_event WHERE id = ?::uuid", noteEvent));
        as("legal").queryParam("subject", "tenant:" + tenant).queryParam("action", "integration.ticket-note").get("/api/audit").then()
                .statusCode(200).body("items[0].payload.textSha256", equalTo(AuditHashes.sha256Hex(text)))
                .body("items[0].payload.ticketRef", equalTo("5")).body("items[0].payload.eventId", equalTo(noteEvent));
        assertEquals(0, holds(tenant).size());
        send(name, secret, comment).then().statusCode(200).body("duplicate", equalTo(true)).body("eventId", equalTo(noteEvent));

        // the preservation tag: a PRESERVATION_REQUEST hold on the tenant, kept on the stored event
        String tagId = unique("zt");
        String tagged = zendesk("tags_changed.json", Map.of("EVENT-ID", tagId, "ORG-ID", org, "LEASE-REF", leaseRef, "TAG",
                "preservation_request"));
        String holdEvent = send(name, secret, tagged).then().statusCode(202).body("status", equalTo("APPLIED")).extract().path("eventId");
        List<Map<String, Object>> placed = holds(tenant);
        assertEquals(1, placed.size());
        assertEquals("PRESERVATION_REQUEST", placed.get(0).get("kind"));
        assertEquals("TENANT", placed.get(0).get("scope"), "fail safe: the whole tenant is held");
        assertEquals("integration:" + name, placed.get(0).get("placedBy"));
        assertTrue(((String) placed.get(0).get("reason")).contains("ticket 6"), placed.toString());
        assertEquals(placed.get(0).get("id"), sqlValue("SELECT hold_id::text FROM inbound_event WHERE id = ?::uuid", holdEvent));
        // the ticket system resends it (a timeout on its side): stored once, held once
        send(name, secret, tagged).then().statusCode(200).body("duplicate", equalTo(true));
        send(name, secret, tagged).then().statusCode(200);
        assertEquals(1, holds(tenant).size());

        // a dispute tag: a DISPUTE hold
        send(name, secret, zendesk("tags_changed.json", Map.of("EVENT-ID", unique("zt"), "ORG-ID", org, "LEASE-REF", "", "TAG", "chargeback")))
                .then().statusCode(202);
        assertTrue(holds(tenant).stream().anyMatch(h -> "DISPUTE".equals(h.get("kind"))));

        // a comment that reads like a preservation request: the note is kept and, fail safe, a hold placed
        int before = holds(tenant).size();
        send(name, secret, zendesk("comment_added.json", Map.of("EVENT-ID", unique("zc"), "ORG-ID", org, "LEASE-REF", leaseRef, "COMMENT",
                "Our lawyer asks you not to erase anything until the court decides."))).then().statusCode(202);
        assertEquals(before + 1, holds(tenant).size());
    }

    @Test
    void aHoldOnAnUnknownOrganizationIsKeptAndAuditedForReviewAndABadOneIsADeadLetter() throws Exception {
        String name = unique("zendesk");
        String secret = Integrations.newSecret();
        admin().body(Map.of("name", name, "kind", "TICKETING_WEBHOOK", "secret", secret, "preset", "zendesk")).post("/api/integrations")
                .then().statusCode(201);
        String org = unique("nobody-org");
        String id = unique("zt");
        String body = zendesk("tags_changed.json", Map.of("EVENT-ID", id, "ORG-ID", org, "LEASE-REF", "", "TAG", "legal_hold"));
        String eventId = send(name, secret, body).then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("audited for a person to review")).body("errors.field", hasItem("tenantRef"))
                .extract().path("eventId");
        assertEquals("UNKNOWN_LEASE", sqlValue("SELECT status FROM inbound_event WHERE id = ?::uuid", eventId));
        assertEquals("HOLD_PRESERVATION_REQUEST", sqlValue("SELECT event_type FROM inbound_event WHERE id = ?::uuid", eventId));
        as("legal").queryParam("subject", "tenant-ref:" + org).get("/api/audit").then().statusCode(200)
                .body("items.action", hasItem("hold.preservation-unplaced")).body("items.payload.eventId", hasItem(eventId));
        send(name, secret, body).then().statusCode(200).body("eventId", equalTo(eventId));

        // no organization and no external id: not an event; a dead letter with the body as it came, 400 naming the field
        String nowhere = zendesk("tags_changed.json", Map.of("EVENT-ID", unique("zt"), "\"ORG-ID\"", "null", "LEASE-REF", "", "TAG", "dispute"));
        String dl = send(name, secret, nowhere).then().statusCode(400).body("errors.field", hasItem("tenantRef"))
                .body("deadLetterId", notNullValue()).extract().path("deadLetterId");
        as("legal").get("/api/integrations/dead-letters/" + dl).then().statusCode(200).body("body", equalTo(nowhere))
                .body("channel", equalTo("webhook:" + name));
        // an event the preset does not know (a priority change): a dead letter too, naming the type
        send(name, secret, body.replace(id, unique("zp")).replace("ticket.tags_changed", "ticket.priority_changed").replace("legal_hold", "x"))
                .then().statusCode(400).body("errors.field", hasItem("type"));
    }
}
