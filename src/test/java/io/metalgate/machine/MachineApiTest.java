package io.metalgate.machine;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class MachineApiTest {

    /**
     * A BMC that manages several systems (blades) is one machine per system: the system id is part of the
     * machine's BMC identity, so two systems of one BMC enrol, the same system twice does not.
     */
    @Test
    void aMultiSystemBmcIsOneMachinePerSystemAndOptionsAreKept() {
        String host = io.metalgate.testing.RedfishMocks.freshAddress();
        java.util.function.Function<Map<String, Object>, Map<String, Object>> blade = options -> Map.of("name", unique("blade"),
                "bmc", Map.of("protocol", "REDFISH", "host", host, "port", 1, "username", "root", "password", "pw", "options", options));
        String a = operator().body(blade.apply(Map.of("systemId", "Blade1", "resetTypes", Map.of("OFF", "PowerOffNonGraceful"))))
                .post("/api/machines").then().statusCode(201)
                .body("bmc.options.systemId", equalTo("Blade1"))
                .body("bmc.options.resetTypes.OFF", equalTo("PowerOffNonGraceful"))
                .extract().path("id");
        operator().body(blade.apply(Map.of("systemId", "Blade2", "ipmiPrivilege", "OPERATOR"))).post("/api/machines").then()
                .statusCode(201).body("bmc.options.ipmiPrivilege", equalTo("OPERATOR"));
        operator().body(blade.apply(Map.of("systemId", "Blade1"))).post("/api/machines").then().statusCode(409)
                .body("detail", containsString("#system=Blade1"));
        // the same BMC without a system id would be a single-system BMC at that address: one of the blades, twice
        operator().body(blade.apply(Map.of())).post("/api/machines").then().statusCode(409).body("detail", containsString("one BMC is one machine"));
        // invalid options are named
        operator().body(blade.apply(Map.of("systemId", "../x"))).post("/api/machines").then().statusCode(400)
                .body("errors.field", hasItem(containsString("systemId")));
        operator().body(blade.apply(Map.of("systemId", "B9", "resetTypes", Map.of("EXPLODE", "x")))).post("/api/machines").then()
                .statusCode(400);
        operator().body(blade.apply(Map.of("systemId", "B9", "ipmiPrivilege", "ROOT"))).post("/api/machines").then().statusCode(400);
        // moving machine a to Blade2 collides; clearing its options is allowed and audited
        operator().body(Map.of("bmc", Map.of("options", Map.of("systemId", "Blade2")))).patch("/api/machines/" + a).then()
                .statusCode(409);
        operator().body(Map.of("bmc", Map.of("options", Map.of("systemId", "Blade3")))).patch("/api/machines/" + a).then()
                .statusCode(200).body("bmc.options.systemId", equalTo("Blade3"))
                .body("bmc.options.resetTypes", org.hamcrest.Matchers.nullValue());
    }

    @Test
    void enrollReadUpdateDeleteAreAuditedAndNeverShowThePassword() {
        String name = unique("srv");
        Response created = operator().body(enrollment(name, "s3cret-bmc-pass")).post("/api/machines");
        created.then().statusCode(201)
                .header("Location", containsString("/api/machines/"))
                .body("name", equalTo(name))
                .body("state", equalTo("ENROLLED"))
                .body("bmc.port", equalTo(1))
                .body("bmc.passwordSet", equalTo(true))
                .body(not(containsString("s3cret-bmc-pass")));
        String id = created.jsonPath().getString("id");

        operator().get("/api/machines/" + id).then().statusCode(200).body("name", equalTo(name))
                .body(not(containsString("s3cret-bmc-pass")));
        // enrolment verifies the BMC at once (nothing listens at this one): VERIFYING, then VERIFY_FAILED
        io.metalgate.testing.Lifecycle.awaitState(id, "VERIFY_FAILED");

        operator().body(Map.of("rack", "R9", "maintenance", true, "maintenanceReason", "fan", "bmc", Map.of("password", "n3w-pass")))
                .patch("/api/machines/" + id)
                .then().statusCode(200).body("rack", equalTo("R9")).body("maintenance", equalTo(true))
                .body("version", equalTo(3)).body(not(containsString("n3w-pass")));

        operator().delete("/api/machines/" + id).then().statusCode(204);
        operator().get("/api/machines/" + id).then().statusCode(404)
                .contentType("application/problem+json").body("status", equalTo(404));

        Response audit = admin().queryParam("subject", "machine:" + id).get("/api/audit");
        audit.then().statusCode(200).body("items.action", equalTo(List.of("machine.enrolled", "machine.transitioned", "machine.transitioned", "machine.updated", "machine.deleted")))
                .body("items[0].actor", equalTo("test-operator"))
                .body("items[3].payload.changes.rack.to", equalTo("R9"))
                .body("items[3].payload.changes.'bmc.password'", equalTo("changed"))
                .body(not(containsString("s3cret-bmc-pass"))).body(not(containsString("n3w-pass")));
    }

    @Test
    void listFiltersAndPages() {
        String rack = unique("rack");
        for (int i = 0; i < 5; i++) {
            Map<String, Object> body = new HashMap<>(enrollment(rack + "-m" + i, "pw"));
            body.put("rack", rack);
            operator().body(body).post("/api/machines").then().statusCode(201);
        }
        operator().queryParam("rack", rack).queryParam("size", 2).queryParam("page", 1).get("/api/machines")
                .then().statusCode(200).body("total", equalTo(5)).body("items", hasSize(2))
                .body("items[0].name", equalTo(rack + "-m2")).body("page", equalTo(1));
        operator().queryParam("name", rack.toUpperCase() + "-M4").get("/api/machines")
                .then().statusCode(200).body("total", equalTo(1));
        operator().queryParam("rack", rack).queryParam("state", "ACTIVE").get("/api/machines")
                .then().statusCode(200).body("total", equalTo(0));
        problem(operator().queryParam("state", "SIDEWAYS").get("/api/machines"), 400, "state");
    }

    @Test
    void badInputGetsProblemJsonNamingTheFieldAndWritesNothing() {
        long before = auditCount();
        String name = unique("bad");
        Map<String, Object> bmc = new HashMap<>(Map.of("protocol", "IPMI", "host", "10.1.1.1", "username", "ADMIN",
                "password", "x", "port", 70000));
        problem(operator().body(Map.of("name", name, "bmc", bmc)).post("/api/machines"), 400, "bmc.port");
        problem(operator().body("{\"name\": \"" + name + "\", \"bmc\": ").post("/api/machines"), 400, "body")
                .body("type", equalTo("urn:metalgate:problem:malformed-json"));
        problem(operator().body(Map.of("name", name, "colour", "red", "bmc", Map.of())).post("/api/machines"), 400, "colour");
        problem(operator().body(Map.of("name", name, "bmc", Map.of("protocol", "SNMP"))).post("/api/machines"), 400, "bmc.protocol");
        problem(operator().body(Map.of("name", "has space", "bmc", Map.of("protocol", "IPMI", "host", "h", "username", "u",
                "password", "p"))).post("/api/machines"), 400, "name");
        problem(operator().body(Map.of("name", name)).post("/api/machines"), 400, "bmc");
        problem(operator().queryParam("size", 501).get("/api/machines"), 400, "size");
        problem(operator().get("/api/machines/not-a-uuid"), 404, null);
        problem(operator().get("/api/machines/00000000-0000-0000-0000-000000000000"), 404, null);
        assertEquals(before, auditCount(), "failed requests must not write audit entries");
        operator().queryParam("name", name).get("/api/machines").then().body("total", equalTo(0));
    }

    @Test
    void duplicateNameOrBmcEndpointIs409AndHalfWritesNothing() {
        String name = unique("dup");
        Map<String, Object> first = enrollment(name, "pw");
        String firstId = operator().body(first).post("/api/machines").then().statusCode(201).extract().path("id");
        io.metalgate.testing.Lifecycle.awaitState(firstId, "VERIFY_FAILED"); // its verification's audit entries are in
        long before = auditCount();
        Map<String, Object> sameName = new HashMap<>(enrollment(name, "pw"));
        sameName.put("bmc", Map.of("protocol", "REDFISH", "host", io.metalgate.testing.RedfishMocks.freshAddress(), "username", "u", "password", "p"));
        problem(operator().body(sameName).post("/api/machines"), 409, "name");
        Map<String, Object> sameEndpoint = new HashMap<>(first);
        sameEndpoint.put("name", name + "-b");
        problem(operator().body(sameEndpoint).post("/api/machines"), 409, "bmc.host");
        assertEquals(before, auditCount());
        operator().queryParam("name", name).get("/api/machines").then().body("total", equalTo(1));
    }

    /** Issue 10 1c: the same BMC under another spelling is the same BMC, and a second machine on it is refused. */
    @Test
    void oneBmcIsOneMachineHoweverItsAddressIsSpelled() {
        String ip = io.metalgate.testing.RedfishMocks.freshAddress();
        String[] o = ip.split("\\.");
        String mappedHex = String.format("[::ffff:%02x%02x:%02x%02x]", Integer.parseInt(o[0]), Integer.parseInt(o[1]), Integer.parseInt(o[2]),
                Integer.parseInt(o[3]));
        operator().body(Map.of("name", unique("one"), "bmc", Map.of("protocol", "REDFISH", "host", ip, "username", "u", "password", "p")))
                .post("/api/machines").then().statusCode(201).body("bmc.port", equalTo(443));
        for (Map<String, Object> twin : List.<Map<String, Object>>of(
                Map.of("protocol", "REDFISH", "host", "[::ffff:" + ip + "]", "username", "u", "password", "p"),
                Map.of("protocol", "REDFISH", "host", mappedHex, "username", "u", "password", "p"),
                Map.of("protocol", "REDFISH", "host", ip, "port", 443, "username", "u", "password", "p"),
                Map.of("protocol", "REDFISH", "host", ip + ".", "username", "u", "password", "p"))) {
            problem(operator().body(Map.of("name", unique("twin"), "bmc", twin)).post("/api/machines"), 409, "bmc.host");
        }
        // another port or protocol on the same address is the same BMC (Redfish on 443, IPMI on 623)
        problem(operator().body(Map.of("name", unique("twin"), "bmc", Map.of("protocol", "IPMI", "host", ip, "username", "u",
                "password", "p"))).post("/api/machines"), 409, "bmc.host");
        problem(operator().body(Map.of("name", unique("twin"), "bmc", Map.of("protocol", "REDFISH", "host", ip, "port", 8443,
                "username", "u", "password", "p"))).post("/api/machines"), 409, "bmc.host");
        // nor does an edit make one machine's BMC another's
        String other = operator().body(enrollment(unique("other"), "pw")).post("/api/machines").then().statusCode(201).extract().path("id");
        problem(operator().body(Map.of("bmc", Map.of("host", "[::ffff:" + ip + "]"))).patch("/api/machines/" + other), 409, "bmc.host");
        problem(operator().body(Map.of("name", unique("nowhere"), "bmc", Map.of("protocol", "IPMI", "host", "no-such-bmc.invalid",
                "username", "u", "password", "p"))).post("/api/machines"), 400, "bmc.host");
    }

    @Test
    void staleUpdateOfUnknownMachineIs404() {
        problem(operator().body(Map.of("rack", "x")).patch("/api/machines/00000000-0000-0000-0000-000000000001"), 404, null);
    }

    static io.restassured.response.ValidatableResponse problem(Response r, int status, String field) {
        var v = r.then().statusCode(status).contentType("application/problem+json")
                .body("status", equalTo(status)).body("title", notNullValue()).body("type", containsString("urn:metalgate:problem:"));
        if (field != null) {
            v.body("errors.field", hasItem(field));
        }
        return v;
    }

    /**
     * The machine entries written by the test's operator: what a failed request of this test would have written
     * (not the whole log, which background work of earlier tests, such as intents reconciled, may still add to).
     */
    static long auditCount() {
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE actor NOT LIKE 'system%' AND action LIKE 'machine.%'")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
