package io.metalgate.integration;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Camel intake route end to end over HTTP with an API token, against the real database. */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class LeaseEventRouteTest {

    private static String token() {
        return as("billing").body(Map.of("name", unique("billing"), "roles", List.of("billing"))).post("/api/tokens").then().statusCode(201).extract().path("token");
    }

    private static io.restassured.specification.RequestSpecification billing(String token) {
        return given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON);
    }

    @Test
    void eventsArePersistedOnceAuditedAndNothingIsDropped() throws Exception {
        String token = token();
        String tenant = operator().body(Map.of("name", unique("t"))).post("/api/tenants").then().extract().path("id");
        String leaseRef = unique("L");
        operator().body(Map.of("tenantId", tenant, "externalRef", leaseRef)).post("/api/leases").then().statusCode(201);
        String ext = unique("evt");
        Map<String, Object> event = Map.of("source", "billing", "externalId", ext, "type", "ACTIVATED",
                "leaseRef", leaseRef, "occurredAt", "2026-11-20T09:00:00Z", "details", Map.of("invoice", "INV-7"));

        String id = billing(token).body(event).post("/api/integrations/lease-events").then().statusCode(202)
                .body("status", equalTo("APPLIED")).body("duplicate", equalTo(false)).extract().path("eventId");
        billing(token).body(event).post("/api/integrations/lease-events").then().statusCode(200)
                .body("eventId", equalTo(id)).body("duplicate", equalTo(true));
        operator().queryParam("tenantId", tenant).get("/api/leases").then().body("items[0].state", equalTo("ACTIVE"));
        // valid but out of order for the lease's state: kept as REJECTED, answered with the allowed events
        billing(token).body(Map.of("source", "billing", "externalId", unique("e"), "type", "ACTIVATED", "leaseRef", leaseRef))
                .post("/api/integrations/lease-events").then().statusCode(409)
                .body("type", equalTo("urn:metalgate:problem:illegal-transition")).body("status", equalTo(409)).body("eventStatus", equalTo("REJECTED"))
                .body("allowedEvents", org.hamcrest.Matchers.containsInAnyOrder("PAYMENT_OVERDUE", "TERMINATED"))
                .body("eventId", notNullValue());
        admin().queryParam("subject", "lease-ref:" + leaseRef).get("/api/audit").then()
                .body("items.action", equalTo(List.of("lease.event.received", "lease.event.received")))
                .body("items[0].payload.type", equalTo("ACTIVATED"))
                .body("items[0].actor", org.hamcrest.Matchers.startsWith("test-billing/billing-"));

        // same external id, other content: refused and kept
        billing(token).body(Map.of("source", "billing", "externalId", ext, "type", "TERMINATED", "leaseRef", leaseRef))
                .post("/api/integrations/lease-events").then().statusCode(409).contentType("application/problem+json")
                .body("errors.field", hasItem("externalId")).body("deadLetterId", notNullValue());
        // unknown lease: kept as an event, answered precisely
        billing(token).body(Map.of("source", "billing", "externalId", unique("e"), "type", "ACTIVATED", "leaseRef", "nope"))
                .post("/api/integrations/lease-events").then().statusCode(422).body("errors.field", hasItem("leaseRef"))
                .body("eventId", notNullValue());
        // malformed and invalid: dead letters with the raw body
        String raw = "{\"source\": \"billing\", \"externalId\": \"" + System.nanoTime() + "\"";
        String dl = billing(token).body(raw).post("/api/integrations/lease-events").then().statusCode(400)
                .body("type", equalTo("urn:metalgate:problem:malformed-json")).extract().path("deadLetterId");
        billing(token).body(Map.of("source", "billing", "externalId", unique("e"), "type", "EXPLODED", "leaseRef", leaseRef))
                .post("/api/integrations/lease-events").then().statusCode(400).body("errors.field", hasItem("type"));
        billing(token).body(Map.of("source", "billing", "type", "ACTIVATED", "leaseRef", leaseRef, "extra", 1))
                .post("/api/integrations/lease-events").then().statusCode(400).body("errors.field", hasItem("extra"));
        billing(token).body(Map.of("source", "billing", "type", "ACTIVATED", "leaseRef", leaseRef))
                .post("/api/integrations/lease-events").then().statusCode(400).body("errors.field", hasItem("externalId"));

        try (var c = PostgresTestResource.postgres().ownerConnection();
                var ps = c.prepareStatement("SELECT body, reason FROM dead_letter WHERE id = ?::uuid")) {
            ps.setString(1, dl);
            var rs = ps.executeQuery();
            rs.next();
            assertEquals(raw, rs.getString("body"));
        }
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT count(*) FROM inbound_event WHERE external_id = '" + ext + "'")) {
            rs.next();
            assertEquals(1, rs.getLong(1));
        }
    }
}
