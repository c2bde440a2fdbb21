package io.metalgate.bench;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;

import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The 2013 fleet's size powered off through emulated BMCs (half Redfish, half IPMI), the two ways the
 * conductor does it: a bulk plan executed ({@code POST /api/bulk/power_off}, then execute, until the plan is
 * EXECUTED) and a lease suspended by billing (the lease follower powers every machine off through the gate).
 * Target (issue 12): 630 machines in &lt; 5 s. {@code -Dbench.fleet=N} for another size.
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class BulkPowerOffBench {

    static final int FLEET = Integer.getInteger("bench.fleet", 630);

    @Test
    void powerOff630Machines() throws Exception {
        int half = FLEET / 2;
        RedfishMock redfish = Lifecycle.bmcs(half, Profile.GENERIC);
        int ipmiPort;
        try (var probe = new java.net.DatagramSocket(0)) {
            ipmiPort = probe.getLocalPort();
        }
        IpmiSim ipmi = IpmiSim.start(IpmiSim.Options.one(ipmiPort).withBmcs(FLEET - half));
        try {
            String prefix = unique("bpo");
            List<String> machines = enrol(redfish, ipmi, ipmiPort, prefix);
            machines.forEach(m -> Lifecycle.awaitState(m, "MANAGEABLE"));
            machines.forEach(m -> operator().post("/api/machines/" + m + "/lifecycle/make_available").then().statusCode(200));
            powerOn(redfish, ipmi);

            // 1. a bulk plan of the AVAILABLE machines (no lease: the gate allows a power-off)
            String plan = operator().body(Map.of("selector", Map.of("machineIds", machines), "reason", "benchmark"))
                    .queryParam("summary", true).post("/api/bulk/power_off").then().statusCode(201).extract().path("id");
            long t0 = System.nanoTime();
            operator().queryParam("summary", true).post("/api/bulk/plans/" + plan + "/execute").then().statusCode(202);
            String status;
            while (true) {
                status = operator().queryParam("summary", true).get("/api/bulk/plans/" + plan).then().extract().path("status");
                if (status.equals("EXECUTED") || status.equals("PARTIAL")) {
                    break;
                }
                Thread.sleep(20);
            }
            double bulkSeconds = (System.nanoTime() - t0) / 1e9;
            int bulkOff = off(redfish, ipmi);
            System.out.printf("bulk power-off of %d: %s in %.2f s, %d BMCs off%n", FLEET, status, bulkSeconds, bulkOff);

            // 2. leased, activated, deployed, then suspended by billing: the lease follower powers them off
            powerOn(redfish, ipmi);
            String tenant = operator().body(Map.of("name", unique("bpo-tenant"))).post("/api/tenants").then().statusCode(201).extract().path("id");
            String lease = operator().body(Map.of("tenantId", tenant, "externalRef", unique("bpo-lease"), "machineIds", machines))
                    .post("/api/leases").then().statusCode(201).extract().path("id");
            io.metalgate.testing.Api.as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
            for (String m : machines) {
                Lifecycle.awaitState(m, "DEPLOYING");
                operator().post("/api/machines/" + m + "/lifecycle/deployed").then().statusCode(200);
            }
            io.metalgate.testing.Api.as("billing").body(Map.of("event", "PAYMENT_OVERDUE")).post("/api/leases/" + lease + "/events").then()
                    .statusCode(200);
            long s0 = System.nanoTime();
            io.metalgate.testing.Api.as("billing").body(Map.of("event", "SUSPENDED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
            while (!PostgresTestResource.sqlValue("SELECT count(*)::text FROM machine WHERE name LIKE ? AND lifecycle_state = 'SUSPENDED'",
                    prefix + "-%").equals(Integer.toString(FLEET))) {
                Thread.sleep(20);
            }
            double followSeconds = (System.nanoTime() - s0) / 1e9;
            int followOff = off(redfish, ipmi);

            String line = String.format("%s bulk-power-off machines=%d (redfish=%d ipmi=%d) | bulk plan status=%s seconds=%.2f per-second=%.0f "
                    + "bmcs-off=%d | lease suspended seconds=%.2f per-second=%.0f bmcs-off=%d | cores=%d%n", Instant.now(), FLEET, half,
                    FLEET - half, status, bulkSeconds, FLEET / bulkSeconds, bulkOff, followSeconds, FLEET / followSeconds, followOff,
                    Runtime.getRuntime().availableProcessors());
            System.out.print(line);
            Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } finally {
            redfish.close();
            ipmi.close();
        }
    }

    private static List<String> enrol(RedfishMock redfish, IpmiSim ipmi, int ipmiPort, String prefix) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> ids = new ArrayList<>();
            for (int i = 0; i < FLEET; i++) {
                int n = i;
                ids.add(pool.submit(() -> {
                    boolean rf = n % 2 == 0;
                    Map<String, Object> bmc = rf
                            ? Map.of("protocol", "REDFISH", "host", redfish.addressOf(n / 2), "port", redfish.port(), "username", "admin",
                                    "password", "redfish-secret")
                            : Map.of("protocol", "IPMI", "host", ipmi.host(n / 2), "port", ipmiPort, "username", "admin", "password",
                                    "ipmi-secret");
                    return operator().body(Map.of("name", prefix + "-" + n, "bmc", bmc)).post("/api/machines").then().statusCode(201)
                            .extract().<String>path("id");
                }));
            }
            List<String> out = new ArrayList<>();
            for (Future<String> f : ids) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdown();
        }
    }

    private static void powerOn(RedfishMock redfish, IpmiSim ipmi) {
        for (int i = 0; i < FLEET / 2; i++) {
            redfish.bmc(i).setPowerState("On");
        }
        for (int i = 0; i < FLEET - FLEET / 2; i++) {
            ipmi.bmc(i).setPowerOn(true);
        }
    }

    private static int off(RedfishMock redfish, IpmiSim ipmi) {
        int n = 0;
        for (int i = 0; i < FLEET / 2; i++) {
            n += redfish.bmc(i).powerState().equals("Off") ? 1 : 0;
        }
        for (int i = 0; i < FLEET - FLEET / 2; i++) {
            n += ipmi.bmc(i).powerOn() ? 0 : 1;
        }
        return n;
    }
}
