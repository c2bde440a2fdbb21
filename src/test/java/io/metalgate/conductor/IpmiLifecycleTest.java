package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.testing.IpmiSimProcess;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A machine enrolled with protocol IPMI through the lifecycle, against the real OpenIPMI ipmi_sim: power
 * sync reads its state, an allowed power-off powers it down through Chassis Control, a wrong password is
 * stored on the machine as the sync's error.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiLifecycleTest {

    @Test
    void anIpmiMachineIsSyncedAndPoweredOffByAnAllowedAction() throws Exception {
        try (IpmiSimProcess sim = IpmiSimProcess.start("admin", "secret")) {
            sim.ipmitool(3, "admin", "secret", "chassis", "power", "on");
            String tenant = operator().body(Map.of("name", unique("ipmi"))).post("/api/tenants").then().extract().path("id");
            String machine = operator().body(Map.of("name", unique("im"), "bmc", Map.of("protocol", "IPMI", "host", sim.host,
                    "port", sim.port, "username", "admin", "password", "secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
            // verified at enrolment against ipmi_sim; this one serves no FRU inventory to inspect, so it is made available by hand
            io.metalgate.testing.Lifecycle.awaitState(machine, "MANAGEABLE");
            operator().post("/api/machines/" + machine + "/lifecycle/make_available").then().statusCode(200).body("state", equalTo("AVAILABLE"));
            String lease = io.metalgate.testing.Lifecycle.activeLease(tenant, List.of(machine));

            operator().queryParam("machine", machine).post("/api/power-sync").then().statusCode(200).body("on", equalTo(1));
            operator().get("/api/machines/" + machine).then().body("power.state", equalTo("ON"));

            // the lease ends: the conductor powers its machine off through the gate and keeps it
            as("billing").body(Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
            io.metalgate.testing.Lifecycle.awaitState(machine, "RETAINED");
            assertEquals("0", sim.power(), "ipmi_sim was told to power down");
            admin().queryParam("subject", "machine:" + machine).queryParam("action", "bmc.powered-off").get("/api/audit").then()
                    .body("items.size()", equalTo(1));

            // new credentials that are wrong: the sweep stores the reason on the machine
            PostgresTestResource.sql("UPDATE machine SET bmc_username = 'nobody' WHERE id = ?::uuid", machine);
            operator().queryParam("machine", machine).post("/api/power-sync").then().statusCode(200).body("failures.AUTHENTICATION", equalTo(1));
            operator().get("/api/machines/" + machine).then().body("power.error", org.hamcrest.Matchers.containsString("unknown user"));
        }
    }
}
