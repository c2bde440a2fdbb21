package io.metalgate.conductor;

import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The 2013 case, end to end through the API: a tenant with 630 machines stops paying, its e-mail notices
 * bounce, a preservation request arrives, an operator asks for a bulk erase — refused, with reasons —
 * and the tenant's evidence report shows the whole story in order.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class Case2013Test {

    private static final int FLEET = 630;

    private io.metalgate.redfishmock.RedfishMock bmcs;
    private io.metalgate.ipmisim.IpmiSim ipmiBmcs;

    @org.junit.jupiter.api.AfterEach
    void stopBmcs() {
        if (bmcs != null) {
            bmcs.close();
        }
        if (ipmiBmcs != null) {
            ipmiBmcs.close();
        }
    }

    @Test
    void the630MachinesAreNotErased() throws Exception {
        String tenant = as("billing").body(Map.of("name", unique("customer-2013"), "contactEmail", "it@customer.example"))
                .post("/api/tenants").then().statusCode(201).extract().path("id");
        String prefix = unique("c13");
        List<String> machines = new ArrayList<>();
        // half the fleet has Redfish BMCs, half IPMI ones (emulated, one loopback address each, all on)
        bmcs = io.metalgate.redfishmock.RedfishMock.start(new io.metalgate.redfishmock.RedfishMock.Options(FLEET / 2,
                List.of(io.metalgate.redfishmock.Profile.GENERIC), "0.0.0.0", 0, "admin", "redfish-secret", null, 1));
        int ipmiPort;
        try (var probe = new java.net.DatagramSocket(0)) {
            ipmiPort = probe.getLocalPort();
        }
        ipmiBmcs = io.metalgate.ipmisim.IpmiSim.start(io.metalgate.ipmisim.IpmiSim.Options.one(ipmiPort).withBmcs(FLEET / 2));
        for (int i = 0; i < FLEET; i++) {
            boolean redfish = i % 2 == 0;
            if (redfish) {
                bmcs.bmc(i / 2).setPowerState("On");
            } else {
                ipmiBmcs.bmc(i / 2).setPowerOn(true);
            }
            machines.add(operator().body(Map.of("name", prefix + "-" + i, "rack", "R" + (i / 42),
                    "bmc", redfish ? Map.of("protocol", "REDFISH", "host", io.metalgate.redfishmock.RedfishMock.address(i / 2), "port", bmcs.port(),
                            "username", "admin", "password", "redfish-secret")
                            : Map.of("protocol", "IPMI", "host", ipmiBmcs.host(i / 2), "port", ipmiPort, "username", "admin",
                                    "password", "ipmi-secret")))
                    .post("/api/machines").then().statusCode(201).extract().path("id"));
        }
        // in service through the product: verified at enrolment, made available, leased, activated, deployed
        machines.forEach(m -> io.metalgate.testing.Lifecycle.awaitState(m, "MANAGEABLE"));
        machines.forEach(m -> operator().post("/api/machines/" + m + "/lifecycle/make_available").then().statusCode(200));
        String leaseRef = unique("contract");
        String lease = operator().body(Map.of("tenantId", tenant, "externalRef", leaseRef, "machineIds", machines))
                .post("/api/leases").then().statusCode(201).extract().path("id");
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        for (String m : machines) {
            io.metalgate.testing.Lifecycle.awaitState(m, "DEPLOYING");
            operator().post("/api/machines/" + m + "/lifecycle/deployed").then().statusCode(200);
        }

        // billing: unpaid, suspended (through the Camel route, with an API token)
        String token = as("billing").body(Map.of("name", unique("billing"), "roles", List.of("billing"))).post("/api/tokens").then().extract().path("token");
        for (String type : List.of("PAYMENT_OVERDUE", "SUSPENDED")) {
            given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON)
                    .body(Map.of("source", "billing", "externalId", unique(type), "type", type, "leaseRef", leaseRef))
                    .post("/api/integrations/lease-events").then().statusCode(202);
        }
        // the conductor powers the suspended lease's machines off through the gate and their BMCs
        machines.forEach(m -> io.metalgate.testing.Lifecycle.awaitState(m, "SUSPENDED"));
        for (int i = 0; i < FLEET / 2; i++) {
            assertEquals("Off", bmcs.bmc(i).powerState(), "Redfish machine " + i + " powered off through its BMC");
            assertEquals(false, ipmiBmcs.bmc(i).powerOn(), "IPMI machine " + i + " powered off through its BMC");
        }

        given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON)
                .body(Map.of("source", "billing", "externalId", unique("term"), "type", "TERMINATED", "leaseRef", leaseRef))
                .post("/api/integrations/lease-events").then().statusCode(202);
        // and keeps them, off, with their data (RETAINED)
        machines.forEach(m -> io.metalgate.testing.Lifecycle.awaitState(m, "RETAINED"));

        // termination notice by e-mail: every attempt bounces
        String notice = operator().body(Map.of("kind", "TERMINATION", "tenantId", tenant, "leaseId", lease)).post("/api/notices")
                .then().statusCode(201).extract().path("id");
        for (int i = 0; i < 3; i++) {
            operator().body(Map.of("channel", "EMAIL", "outcome", "BOUNCED", "proof", "550 5.1.1 <it@customer.example>: mailbox unavailable"))
                    .post("/api/notices/" + notice + "/attempts").then().statusCode(200);
        }
        // the customer's lawyers ask for preservation
        as("legal").body(Map.of("kind", "PRESERVATION_REQUEST", "tenantId", tenant,
                "reason", "letter from counsel asking to preserve all data")).post("/api/holds").then().statusCode(201);

        // an operator asks for a bulk erase of the whole fleet
        var plan = operator().body(Map.of("selector", Map.of("tenantId", tenant), "reason", "reclaim hardware"))
                .post("/api/bulk/erase").then().statusCode(201)
                .body("allowed", equalTo(0)).body("refused", equalTo(FLEET))
                .body("blastRadius.machines", equalTo(FLEET)).body("blastRadius.tenants", equalTo(1))
                .body("blastRadius.perTenant[0].share", equalTo(1.0f))
                .extract().jsonPath();
        List<String> reasons = plan.getList("decisions[0].reasons.code");
        for (String expected : List.of("HOLD", "RETENTION", "NOTICE_NOT_PROVEN", "APPROVAL_MISSING", "BULK_SECOND_APPROVAL")) {
            assertTrue(reasons.contains(expected), expected + " missing from " + reasons);
        }
        operator().post("/api/bulk/plans/" + plan.getString("id") + "/execute").then().statusCode(409)
                .body("type", equalTo("urn:metalgate:problem:gate-refused"));
        operator().queryParam("name", prefix).queryParam("state", "ERASING").get("/api/machines").then().body("total", equalTo(0));

        // the evidence report tells the story in order
        List<String> story = as("legal").get("/api/tenants/" + tenant + "/evidence").then().statusCode(200).extract().jsonPath()
                .getList("items.action");
        List<String> milestones = List.of("tenant.created", "lease.created", "lease.event.received", "bmc.powered-off",
                "notice.created", "notice.attempt-recorded", "hold.placed", "bulk.planned", "bulk.refused");
        int at = -1;
        for (String m : milestones) {
            int next = indexAfter(story, m, at);
            assertTrue(next > at, m + " not found after position " + at + " in the evidence report");
            at = next;
        }
        // each machine powered off through its BMC twice (suspended, then terminated), each in the tenant's story
        assertEquals(2 * FLEET, story.stream().filter("bmc.powered-off"::equals).count());
        assertEquals(3, story.stream().filter("notice.attempt-recorded"::equals).count());
    }

    @Test
    void aPlanWhoseFactsChangedIsStale() {
        String tenant = operator().body(Map.of("name", unique("stale"))).post("/api/tenants").then().extract().path("id");
        List<String> machines = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            machines.add(operator().body(io.metalgate.testing.Api.enrollment(unique("st"), "pw")).post("/api/machines").then()
                    .extract().path("id"));
        }
        String lease = operator().body(Map.of("tenantId", tenant, "externalRef", unique("L"), "machineIds", machines))
                .post("/api/leases").then().extract().path("id");
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        String plan = operator().body(Map.of("selector", Map.of("leaseId", lease), "reason", "maintenance window"))
                .post("/api/bulk/power_off").then().statusCode(201).body("allowed", equalTo(0)).extract().path("id");
        operator().body(Map.of("event", "PAYMENT_OVERDUE")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        operator().post("/api/bulk/plans/" + plan + "/execute").then().statusCode(409)
                .body("type", equalTo("urn:metalgate:problem:stale-plan"));
        as("approver").post("/api/bulk/plans/" + plan + "/approve").then().statusCode(200).body("approvers", org.hamcrest.Matchers.contains("test-approver"));
        operator().body(Map.of("selector", Map.of(), "reason", "x")).post("/api/bulk/erase").then().statusCode(400);
        operator().body(Map.of("selector", Map.of("tenantId", tenant), "reason", "x")).post("/api/bulk/detonate").then().statusCode(400);
    }

    @Test
    void aQuerySelectsByTheMachineListingFiltersAndTheSummaryLeavesOutEachDecision() {
        String prefix = unique("qsel");
        List<String> machines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            machines.add(operator().body(io.metalgate.testing.Api.enrollment(prefix + "-" + i, "pw")).post("/api/machines").then()
                    .statusCode(201).extract().path("id"));
        }
        machines.forEach(m -> io.metalgate.testing.Lifecycle.awaitState(m, "VERIFY_FAILED")); // nothing listens at their BMCs
        operator().body(Map.of("rack", "R-" + prefix)).patch("/api/machines/" + machines.get(3)).then().statusCode(200);
        var plan = operator().body(Map.of("selector", Map.of("query", Map.of("name", prefix.toUpperCase(), "state", "verify_failed")),
                "reason", "reclaim")).queryParam("summary", true).post("/api/bulk/erase").then().statusCode(201)
                .body("blastRadius.machines", equalTo(4)).body("decisions", org.hamcrest.Matchers.nullValue())
                .body("outcomes.machines.sum()", equalTo(4)).extract().jsonPath();
        // every decision is there without ?summary, in name order
        List<String> decided = operator().get("/api/bulk/plans/" + plan.getString("id")).then().statusCode(200).extract().jsonPath()
                .getList("decisions.machineId");
        assertEquals(machines, decided);
        operator().body(Map.of("selector", Map.of("query", Map.of("name", prefix, "rack", "R-" + prefix)), "reason", "x"))
                .post("/api/bulk/erase").then().statusCode(201).body("blastRadius.machines", equalTo(1))
                .body("decisions[0].machineId", equalTo(machines.get(3)));
        // a LIKE wildcard in the name is taken literally
        operator().body(Map.of("selector", Map.of("query", Map.of("name", "%")), "reason", "x")).post("/api/bulk/erase").then()
                .statusCode(400).body("errors[0].field", equalTo("selector"));
        operator().body(Map.of("selector", Map.of("query", Map.of()), "reason", "x")).post("/api/bulk/erase").then()
                .statusCode(400).body("errors[0].field", equalTo("selector.query"));
        operator().body(Map.of("selector", Map.of("query", Map.of("state", "melting")), "reason", "x")).post("/api/bulk/erase").then()
                .statusCode(400).body("errors[0].field", equalTo("selector.query.state"));
        operator().body(Map.of("selector", Map.of("query", Map.of("name", prefix), "machineIds", machines), "reason", "x"))
                .post("/api/bulk/erase").then().statusCode(400).body("detail", org.hamcrest.Matchers.containsString("exactly one"));
    }

    private static int indexAfter(List<String> list, String value, int after) {
        for (int i = after + 1; i < list.size(); i++) {
            if (list.get(i).equals(value)) {
                return i;
            }
        }
        return -1;
    }
}
