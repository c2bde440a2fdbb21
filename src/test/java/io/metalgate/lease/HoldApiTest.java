package io.metalgate.lease;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.metalgate.testing.Api;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class HoldApiTest {

    private static io.restassured.specification.RequestSpecification user(String name, String role) {
        admin().body(Map.of("username", name, "password", Api.PASSWORD, "roles", List.of(role))).post("/api/users");
        return given().auth().preemptive().basic(name, Api.PASSWORD).contentType(ContentType.JSON);
    }

    @Test
    void holdsArePlacedAtOnceAndReleasedOnlyByTwoPeopleOneOfThemLegal() {
        String tenant = operator().body(Map.of("name", unique("held"))).post("/api/tenants").then().extract().path("id");
        String machine = operator().body(enrollment(unique("hm"), "pw")).post("/api/machines").then().extract().path("id");
        String id = operator().body(Map.of("kind", "PRESERVATION_REQUEST", "tenantId", tenant, "machineIds", List.of(machine),
                "reason", "counsel's letter of 2026-11-20")).post("/api/holds").then().statusCode(201)
                .body("scope", equalTo("MACHINES")).body("active", equalTo(true)).body("machineIds", contains(machine))
                .extract().path("id");

        var op1 = user(unique("op1"), "operator");
        var op2 = user(unique("op2"), "operator");
        var counsel = user(unique("legal"), "legal");
        op1.body(Map.of("reason", "matter settled")).post("/api/holds/" + id + "/release").then().statusCode(200)
                .body("active", equalTo(true));
        op1.body(Map.of("reason", "again")).post("/api/holds/" + id + "/release").then().statusCode(409)
                .body("type", equalTo("urn:metalgate:problem:two-person-rule"));
        op2.body(Map.of("reason", "agree")).post("/api/holds/" + id + "/release").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("legal role"));
        counsel.body(Map.of("reason", "confirmed by counsel")).post("/api/holds/" + id + "/release").then().statusCode(200)
                .body("active", equalTo(false));
        counsel.body(Map.of("reason", "twice")).post("/api/holds/" + id + "/release").then().statusCode(409);

        admin().queryParam("subject", "tenant:" + tenant).get("/api/audit").then()
                .body("items.action", contains("tenant.created", "hold.placed", "hold.release-requested", "hold.release-refused",
                        "hold.release-refused", "hold.released"));
        operator().queryParam("tenantId", tenant).queryParam("active", false).get("/api/holds").then()
                .body("id", contains(id));
    }

    @Test
    void badHoldRequestsAreNamed() {
        String tenant = operator().body(Map.of("name", unique("bh"))).post("/api/tenants").then().extract().path("id");
        String other = operator().body(Map.of("name", unique("bh2"))).post("/api/tenants").then().extract().path("id");
        String lease = operator().body(Map.of("tenantId", other, "externalRef", unique("L"))).post("/api/leases").then()
                .extract().path("id");
        operator().body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "leaseId", lease, "reason", "x")).post("/api/holds")
                .then().statusCode(400).body("errors.field", hasItem("leaseId"));
        operator().body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant)).post("/api/holds").then().statusCode(400)
                .body("errors.field", hasItem("reason"));
        operator().body(Map.of("kind", "MAYBE", "tenantId", tenant, "reason", "x")).post("/api/holds").then().statusCode(400)
                .body("errors.field", hasItem("kind"));
        as("viewer").body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "reason", "x")).post("/api/holds").then().statusCode(403);
        as("legal").body(Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "reason", "litigation")).post("/api/holds").then()
                .statusCode(201).body("scope", equalTo("TENANT"));
        operator().body(Map.of("reason", "x")).post("/api/holds/00000000-0000-0000-0000-000000000000/release").then().statusCode(404);
    }
}
