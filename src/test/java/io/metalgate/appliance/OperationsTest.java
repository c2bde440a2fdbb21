package io.metalgate.appliance;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class OperationsTest {

    @Test
    void healthIncludesTheDatabase() {
        given().get("/q/health").then().statusCode(200).body("status", equalTo("UP"))
                .body(containsString("Reactive PostgreSQL connections health check"));
        given().get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void prometheusMetricsAndOpenApiAreServed() {
        // metrics are for signed-in staff (a scraper's viewer token), never anonymous
        given().get("/q/metrics").then().statusCode(401);
        io.metalgate.testing.Api.as("viewer").get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"))
                .body(containsString("metalgate_audit_pending ")).body(containsString("metalgate_audit_pending_oldest_seconds"))
                .body(containsString("metalgate_dead_letters_open")).body(containsString("metalgate_inbound_events_unapplied"));
        given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .body(containsString("/api/machines")).body(containsString("/api/audit/export"))
                .body(containsString("/api/integrations/lease-events"));
        given().get("/q/swagger-ui/").then().statusCode(200);
    }
}
