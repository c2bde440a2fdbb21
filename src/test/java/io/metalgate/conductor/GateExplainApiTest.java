package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Notices recorded through the API, and the gate explaining a refusal from the facts in the database. */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class GateExplainApiTest {

    @Test
    void whyCantIEraseThisListsEveryReasonFromTheRecordedFacts() {
        String tenant = operator().body(Map.of("name", unique("why"))).post("/api/tenants").then().extract().path("id");
        // a machine on a verified BMC (an unverified one is never powered off, whatever the lease), leased and deploying
        io.metalgate.redfishmock.RedfishMock bmc = io.metalgate.testing.Lifecycle.bmcs(1, io.metalgate.redfishmock.Profile.GENERIC);
        String machine = io.metalgate.testing.Lifecycle.available(bmc, 1, "wm").get(0);
        String lease = operator().body(Map.of("tenantId", tenant, "externalRef", unique("L"), "machineIds", List.of(machine)))
                .post("/api/leases").then().statusCode(201).extract().path("id");
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        io.metalgate.testing.Lifecycle.awaitState(machine, "DEPLOYING");

        // while the lease is active, power-off is refused too
        as("viewer").queryParam("action", "power_off").get("/api/machines/" + machine + "/gate").then().statusCode(200)
                .body("decision.allowed", equalTo(false)).body("decision.reasons.code", contains("LEASE_ACTIVE"));

        as("billing").body(Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        String notice = operator().body(Map.of("kind", "TERMINATION", "tenantId", tenant, "leaseId", lease)).post("/api/notices")
                .then().statusCode(201).extract().path("id");
        operator().body(Map.of("channel", "EMAIL", "outcome", "BOUNCED", "proof", "550 5.1.1 user unknown; queue id 4XyZ"))
                .post("/api/notices/" + notice + "/attempts").then().statusCode(200).body("attempts", hasSize(1))
                .body("attempts[0].outcome", equalTo("BOUNCED"));
        operator().body(Map.of("kind", "PRESERVATION_REQUEST", "tenantId", tenant, "reason", "counsel asked to preserve"))
                .post("/api/holds").then().statusCode(201);

        as("viewer").queryParam("action", "erase").get("/api/machines/" + machine + "/gate").then().statusCode(200)
                .body("decision.allowed", equalTo(false))
                // every reason of this machine's facts; the appliance-wide 24 h erase window is shared with the erases of other
                // tests of this run, so its reason (BULK_SECOND_APPROVAL) may join them
                .body("decision.reasons.code.findAll { it != 'BULK_SECOND_APPROVAL' }", containsInAnyOrder("MACHINE_STATE", "HOLD", "RETENTION",
                        "NOTICE_NOT_PROVEN", "APPROVAL_MISSING"))
                .body("facts.lease.state", equalTo("TERMINATED"))
                .body("facts.notices[0].attempts[0].outcome", equalTo("BOUNCED")).body("facts.notices[0].attempts[0].proven", equalTo(false));
        as("viewer").queryParam("action", "power_off").get("/api/machines/" + machine + "/gate").then()
                .body("decision.allowed", equalTo(true));

        admin().queryParam("subject", "tenant:" + tenant).get("/api/audit").then()
                .body("items.action", hasItem("notice.attempt-recorded")).body("items.action", hasItem("hold.placed"));
        bmc.close();
    }

    @Test
    void badGateAndNoticeRequestsAreNamed() {
        String machine = operator().body(enrollment(unique("bg"), "pw")).post("/api/machines").then().extract().path("id");
        as("viewer").queryParam("action", "detonate").get("/api/machines/" + machine + "/gate").then().statusCode(400)
                .body("errors.field", hasItem("action"));
        as("viewer").get("/api/machines/" + machine + "/gate").then().statusCode(400).body("errors.field", hasItem("action"));
        as("viewer").queryParam("action", "erase").get("/api/machines/00000000-0000-0000-0000-000000000000/gate").then()
                .statusCode(404);
        operator().body(Map.of("kind", "TERMINATION", "tenantId", "00000000-0000-0000-0000-000000000000")).post("/api/notices")
                .then().statusCode(400).body("errors.field", hasItem("tenantId"));
        operator().body(Map.of("channel", "PIGEON", "outcome", "SENT", "proof", "x"))
                .post("/api/notices/00000000-0000-0000-0000-000000000000/attempts").then().statusCode(400)
                .body("errors.field", hasItem("channel"));
        operator().body(Map.of("channel", "EMAIL", "outcome", "SENT", "proof", "x"))
                .post("/api/notices/00000000-0000-0000-0000-000000000000/attempts").then().statusCode(404);
    }
}
