package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A bulk power-off is carried out on many machines at once, as many as their BMCs answer in time (the
 * adaptive limit), not a fixed few: against simulated IPMI BMCs that each take 100-200 ms per answer, more
 * than the old fixed eight are asked at once, and every machine is powered off with no timeout.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BulkExecutionTest {

    private static final int FLEET = 48;

    @Test
    void aBulkPowerOffAsksManySlowBmcsAtOnceAndAllAreDone() throws Exception {
        int port;
        try (var probe = new java.net.DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(port).withBmcs(FLEET).withFirstIndex(20_000))) {
            String prefix = unique("bulkx");
            List<String> machines = new ArrayList<>();
            for (int i = 0; i < FLEET; i++) {
                sim.bmc(i).setPowerOn(true);
                machines.add(operator().body(Map.of("name", prefix + "-" + i, "bmc", Map.of("protocol", "IPMI", "host", sim.host(i), "port", port,
                        "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id"));
            }
            machines.forEach(m -> io.metalgate.testing.Lifecycle.awaitState(m, "MANAGEABLE"));
            machines.forEach(m -> operator().post("/api/machines/" + m + "/lifecycle/make_available").then().statusCode(200));
            for (int i = 0; i < FLEET; i++) {
                sim.bmc(i).minLatencyMillis = 100;
                sim.bmc(i).maxLatencyMillis = 200;
            }
            String plan = operator().body(Map.of("selector", Map.of("machineIds", machines), "reason", "rack maintenance"))
                    .post("/api/bulk/power_off").then().statusCode(201).body("allowed", equalTo(FLEET)).extract().path("id");
            operator().post("/api/bulk/plans/" + plan + "/execute").then().statusCode(202);
            String status = "EXECUTING";
            for (int i = 0; i < 1200 && status.equals("EXECUTING"); i++) {
                Thread.sleep(100);
                status = operator().queryParam("summary", true).get("/api/bulk/plans/" + plan).then().extract().path("status");
            }
            var executions = operator().get("/api/bulk/plans/" + plan).then().extract().jsonPath();
            assertEquals("EXECUTED", status, "outcomes: " + executions.getList("executions.detail"));
            for (int i = 0; i < FLEET; i++) {
                assertFalse(sim.bmc(i).powerOn(), "BMC " + i + " powered off");
            }
            System.out.println("most BMCs asked at once: " + sim.mostAnswersPending());
            // the conductor used to act on a fixed 8 machines at once
            assertTrue(sim.mostAnswersPending() > 8, "BMCs asked at once: " + sim.mostAnswersPending());
        }
    }
}
