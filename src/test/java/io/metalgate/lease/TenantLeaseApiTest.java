package io.metalgate.lease;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class TenantLeaseApiTest {

    private static String machine(String name) {
        return operator().body(enrollment(name, "pw")).post("/api/machines").then().statusCode(201).extract().path("id");
    }

    private static String tenant(String name) {
        return operator().body(Map.of("name", name, "contactEmail", "ops@" + name + ".example"))
                .post("/api/tenants").then().statusCode(201).extract().path("id");
    }

    @Test
    void leasesHoldMachinesAndEveryChangeIsAudited() {
        String t = tenant(unique("acme"));
        String m1 = machine(unique("a"));
        String m2 = machine(unique("b"));
        String ref = unique("L");
        var lease = operator().body(Map.of("tenantId", t, "externalRef", ref, "startsAt", "2026-01-01T00:00:00Z",
                "endsAt", "2027-01-01T00:00:00Z", "machineIds", List.of(m1))).post("/api/leases");
        lease.then().statusCode(201).body("state", equalTo("PENDING")).body("machines.id", contains(m1));
        String id = lease.jsonPath().getString("id");

        operator().body(Map.of("machineIds", List.of(m2))).post("/api/leases/" + id + "/machines").then().statusCode(200)
                .body("machines", hasSize(2));
        operator().delete("/api/leases/" + id + "/machines/" + m1).then().statusCode(200).body("machines.id", contains(m2));
        operator().body(Map.of("endsAt", "2027-06-01T00:00:00Z")).patch("/api/leases/" + id).then().statusCode(200)
                .body("endsAt", equalTo("2027-06-01T00:00:00Z"));
        operator().get("/api/tenants/" + t + "/leases").then().statusCode(200).body("items.externalRef", contains(ref));
        operator().queryParam("tenantId", t).queryParam("state", "PENDING").get("/api/leases").then().body("total", equalTo(1));

        admin().queryParam("subject", "lease:" + id).get("/api/audit").then().statusCode(200)
                .body("items.action", contains("lease.created", "lease.machines-added", "lease.machines-removed", "lease.updated"));

        // a machine in a lease cannot join another lease or be deleted; the tenant cannot be deleted
        String other = unique("L");
        operator().body(Map.of("tenantId", t, "externalRef", other, "machineIds", List.of(m2))).post("/api/leases")
                .then().statusCode(409).contentType("application/problem+json").body("errors.field", hasItem("machineIds"));
        operator().delete("/api/machines/" + m2).then().statusCode(409);
        operator().delete("/api/tenants/" + t).then().statusCode(409);
        operator().get("/api/leases?externalRef=" + other).then().statusCode(200);

        operator().delete("/api/leases/" + id).then().statusCode(204);
        operator().delete("/api/machines/" + m2).then().statusCode(204);
        operator().delete("/api/tenants/" + t).then().statusCode(204);
    }

    @Test
    void leaseEventsFollowTheTransitionTableAndAreRecorded() throws Exception {
        String t = tenant(unique("life"));
        String id = operator().body(Map.of("tenantId", t, "externalRef", unique("L"))).post("/api/leases").then().statusCode(201)
                .extract().path("id");
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + id + "/events").then().statusCode(200)
                .body("state", equalTo("ACTIVE"));
        operator().body(Map.of("event", "PAYMENT_OVERDUE", "reason", "invoice INV-1 unpaid")).post("/api/leases/" + id + "/events")
                .then().statusCode(200).body("state", equalTo("OVERDUE"));
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + id + "/events").then().statusCode(409)
                .contentType("application/problem+json").body("type", equalTo("urn:metalgate:problem:illegal-transition"))
                .body("allowedEvents", org.hamcrest.Matchers.containsInAnyOrder("SUSPENDED", "PAYMENT_RECEIVED", "TERMINATED"))
                .body("errors.field", hasItem("event"));
        as("billing").body(Map.of("event", "TERMINATED")).post("/api/leases/" + id + "/events").then().statusCode(200)
                .body("state", equalTo("TERMINATED")).body("terminatedAt", org.hamcrest.Matchers.notNullValue());
        as("billing").body(Map.of("event", "PAYMENT_RECEIVED")).post("/api/leases/" + id + "/events").then().statusCode(409)
                .body("allowedEvents", contains("CLOSED"));
        operator().body(Map.of("event", "EXPLODE")).post("/api/leases/" + id + "/events").then().statusCode(400)
                .body("errors.field", hasItem("event"));
        as("viewer").body(Map.of("event", "CLOSED")).post("/api/leases/" + id + "/events").then().statusCode(403);

        admin().queryParam("subject", "lease:" + id).queryParam("action", "lease.transitioned").get("/api/audit").then()
                .body("items.payload.to", contains("ACTIVE", "OVERDUE", "TERMINATED"))
                .body("items[1].payload.reason", equalTo("invoice INV-1 unpaid"));
        try (var c = io.metalgate.testing.PostgresTestResource.postgres().ownerConnection();
                var ps = c.prepareStatement("SELECT count(*) FROM state_transition WHERE subject_id = ?::uuid")) {
            ps.setString(1, id);
            var rs = ps.executeQuery();
            rs.next();
            org.junit.jupiter.api.Assertions.assertEquals(3, rs.getLong(1));
        }
    }

    @Test
    void badLeaseInputIsNamed() {
        String t = tenant(unique("bad"));
        operator().body(Map.of("tenantId", "00000000-0000-0000-0000-000000000009", "externalRef", unique("L")))
                .post("/api/leases").then().statusCode(400).body("errors.field", hasItem("tenantId"));
        operator().body(Map.of("tenantId", t, "externalRef", unique("L"), "machineIds",
                List.of("00000000-0000-0000-0000-00000000000a"))).post("/api/leases")
                .then().statusCode(400).body("errors.field", hasItem("machineIds")).body("detail", containsString("no such machines"));
        operator().body(Map.of("tenantId", t, "externalRef", unique("L"), "startsAt", "2027-01-01T00:00:00Z",
                "endsAt", "2026-01-01T00:00:00Z")).post("/api/leases").then().statusCode(400).body("errors.field", hasItem("endsAt"));
        operator().body(Map.of("tenantId", t, "externalRef", unique("L"), "startsAt", "yesterday")).post("/api/leases")
                .then().statusCode(400).body("errors.field", hasItem("startsAt"));
        operator().body(Map.of("tenantId", "not-a-uuid", "externalRef", "x")).post("/api/leases").then().statusCode(400)
                .body("errors.field", hasItem("tenantId"));
        operator().body(Map.of("contactEmail", "not-an-email")).patch("/api/tenants/" + t).then().statusCode(400)
                .body("errors.field", hasItem("contactEmail"));
        String dupName = unique("dup");
        tenant(dupName);
        operator().body(Map.of("name", dupName)).post("/api/tenants").then().statusCode(409).body("errors.field", hasItem("name"));
        operator().get("/api/leases/00000000-0000-0000-0000-000000000000").then().statusCode(404);
        operator().get("/api/tenants/00000000-0000-0000-0000-000000000000").then().statusCode(404);
        operator().queryParam("state", "MAYBE").get("/api/leases").then().statusCode(400).body("errors.field", hasItem("state"));
    }

    /**
     * Where notices go is where their proof comes from: a change of a tenant's contact address by one person is a
     * proposal (notices keep going to the address in force) until a second, different person confirms it.
     */
    @Test
    void aTenantsContactAddressChangesOnlyWithASecondPerson() {
        // billing (the system of record) brings a tenant with its address in force; an operator's is only a proposal
        String t = as("billing").body(Map.of("name", unique("contact"), "contactEmail", "it@tenant.example")).post("/api/tenants").then()
                .statusCode(201).body("contactEmail", equalTo("it@tenant.example")).extract().path("id");
        operator().body(Map.of("name", unique("onboarded"), "contactEmail", "me@operator.example")).post("/api/tenants").then()
                .statusCode(201).body("contactEmail", org.hamcrest.Matchers.nullValue())
                .body("proposedContactEmail", equalTo("me@operator.example"));
        operator().body(Map.of("contactEmail", "new@tenant.example")).patch("/api/tenants/" + t).then().statusCode(200)
                .body("contactEmail", equalTo("it@tenant.example")).body("proposedContactEmail", equalTo("new@tenant.example"))
                .body("proposedBy", equalTo("test-operator"));
        Map<String, Object> confirmNew = Map.of("contactEmail", "new@tenant.example", "reason", "the tenant's ticket 9012 names it");
        operator().body(confirmNew).post("/api/tenants/" + t + "/contact-confirmations").then().statusCode(409);
        as("viewer").body(confirmNew).post("/api/tenants/" + t + "/contact-confirmations").then().statusCode(403);
        // the proposal changed after the second person read it: their confirmation names the address they reviewed
        operator().body(Map.of("contactEmail", "me@operator.example")).patch("/api/tenants/" + t).then().statusCode(200)
                .body("proposedContactEmail", equalTo("me@operator.example"));
        as("approver").body(confirmNew).post("/api/tenants/" + t + "/contact-confirmations").then().statusCode(409)
                .body("errors.field", hasItem("contactEmail"));
        operator().body(Map.of("contactEmail", "new@tenant.example")).patch("/api/tenants/" + t).then().statusCode(200);
        as("approver").body(confirmNew).post("/api/tenants/" + t + "/contact-confirmations").then().statusCode(200)
                .body("contactEmail", equalTo("new@tenant.example")).body("proposedContactEmail", org.hamcrest.Matchers.nullValue());
        as("approver").body(confirmNew).post("/api/tenants/" + t + "/contact-confirmations").then().statusCode(409);
        io.metalgate.testing.Lifecycle.awaitAudit("tenant:" + t, "tenant.contact-confirmed", 1);
    }
}
