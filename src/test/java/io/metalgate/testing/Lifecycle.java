package io.metalgate.testing;

import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Machines brought through their lifecycle by the product alone (no state set with SQL): enrolled on
 * emulated BMCs (verified: MANAGEABLE), inspected (AVAILABLE), leased and activated (DEPLOYING), marked
 * deployed (ACTIVE); a terminated lease's machines are powered off and kept by the conductor (RETAINED).
 */
public final class Lifecycle {

    private Lifecycle() {
    }

    /**
     * The first of {@code n} loopback address numbers no other emulator of this test run has: a BMC's identity
     * is its address. Kept in a system property, because Quarkus loads test classes in more than one class
     * loader (a static counter would be one per loader); starts above what Case2013Test uses.
     */
    static int addresses(int n) {
        synchronized (System.class) {
            int first = Integer.getInteger("metalgate-test.next-bmc-address", 4096);
            System.setProperty("metalgate-test.next-bmc-address", Integer.toString(first + n));
            return first;
        }
    }

    /** A mock of {@code n} BMCs on loopback addresses of their own (all on one listener), powered on. */
    public static RedfishMock bmcs(int n, Profile profile) {
        RedfishMock mock = RedfishMock.start(new RedfishMock.Options(n, List.of(profile), "0.0.0.0", 0, "admin", "redfish-secret", null, 1)
                .withFirstAddress(addresses(n)));
        for (int i = 0; i < n; i++) {
            mock.bmc(i).setPowerState("On");
        }
        return mock;
    }

    /** Enrols BMC {@code i} of {@code mock}; its machine id. */
    public static String enrol(RedfishMock mock, int i, String prefix) {
        return operator().body(Map.of("name", unique(prefix), "bmc", Map.of("protocol", "REDFISH", "host", mock.addressOf(i),
                "port", mock.port(), "username", "admin", "password", "redfish-secret")))
                .post("/api/machines").then().statusCode(201).extract().path("id");
    }

    /** Every BMC of {@code mock} enrolled, verified and inspected: AVAILABLE machines. */
    public static List<String> available(RedfishMock mock, int n, String prefix) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String m = enrol(mock, i, prefix);
            awaitState(m, "MANAGEABLE");
            operator().post("/api/machines/" + m + "/inventory").then().statusCode(200);
            awaitState(m, "AVAILABLE");
            out.add(m);
        }
        return out;
    }

    /** A lease of {@code tenant} over {@code machines}, activated, its machines deployed (ACTIVE); the lease id. */
    public static String activeLease(String tenant, List<String> machines) {
        String lease = operator().body(Map.of("tenantId", tenant, "externalRef", unique("L"), "machineIds", machines))
                .post("/api/leases").then().statusCode(201).extract().path("id");
        as("billing").body(Map.of("event", "ACTIVATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        for (String m : machines) {
            awaitState(m, "DEPLOYING");
            operator().post("/api/machines/" + m + "/lifecycle/deployed").then().statusCode(200);
            awaitState(m, "ACTIVE");
        }
        return lease;
    }

    /** A tenant's machines with the lease they hold the data of. */
    public record Fleet(String tenant, String lease, List<String> machines) {
    }

    /**
     * The BMCs of {@code bmcs} as machines of a new tenant, through their lifecycle to RETAINED: available,
     * leased, deployed, lease terminated by billing (the conductor powers them off and keeps them).
     */
    public static Fleet retained(RedfishMock bmcs, int n, String prefix) {
        String tenant = operator().body(Map.of("name", unique(prefix))).post("/api/tenants").then().statusCode(201).extract().path("id");
        List<String> machines = available(bmcs, n, prefix);
        String lease = activeLease(tenant, machines);
        Api.as("billing").body(Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        machines.forEach(m -> awaitState(m, "RETAINED"));
        return new Fleet(tenant, lease, machines);
    }

    /**
     * Time travel for a retained fleet (the recorded times moved back, as the gate reads them): terminated 40
     * days ago, a termination notice delivered 20 days ago. Retention and notice rules then hold.
     */
    public static Fleet pastRetentionWithNotice(Fleet f) {
        PostgresTestResource.sql("UPDATE lease SET terminated_at = now() - interval '40 days' WHERE id = ?::uuid", f.lease());
        deployedLongAgo(f.lease());
        String notice = operator().body(Map.of("kind", "TERMINATION", "tenantId", f.tenant(), "leaseId", f.lease())).post("/api/notices")
                .then().statusCode(201).extract().path("id");
        String attempt = operator().body(Map.of("channel", "EMAIL", "outcome", "DELIVERED", "proof", "250 OK"))
                .post("/api/notices/" + notice + "/attempts").then().statusCode(200).extract().path("attempts[0].id");
        // typed in by one person, it counts once a second confirms it
        as("approver").body(Map.of("reason", "the mail log shows 250 OK")).post("/api/notices/" + notice + "/attempts/" + attempt
                + "/confirmations").then().statusCode(200);
        PostgresTestResource.sql("UPDATE notice_attempt SET at = now() - interval '20 days' WHERE notice_id = ?::uuid", notice);
        return f;
    }

    /**
     * Time travel for a lease's machines: deployed 60 days ago (the blast-radius share counts a tenant's fleet by the
     * machines that served it before the window, as every machine that has waited out its retention has).
     */
    public static void deployedLongAgo(String lease) {
        PostgresTestResource.sql("UPDATE state_transition SET at = at - interval '60 days' WHERE subject_type = 'MACHINE' "
                + "AND subject_id IN (SELECT machine_id FROM lease_machine WHERE lease_id = ?::uuid)", lease);
    }

    /** Waits until the machine is in {@code state} (the conductor works after the API answered). */
    public static void awaitState(String machine, String state) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String now = null;
        while (System.nanoTime() < deadline) {
            now = operator().get("/api/machines/" + machine).then().statusCode(200).extract().path("state");
            if (state.equals(now)) {
                return;
            }
            sleep(50);
        }
        throw new AssertionError("machine " + machine + " is " + now + ", not " + state);
    }

    /** Waits until a bulk plan's execution (in the background after its 202) has ended; the plan as then answered. */
    public static io.restassured.path.json.JsonPath awaitPlan(String plan) {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            io.restassured.path.json.JsonPath p = operator().get("/api/bulk/plans/" + plan).then().statusCode(200).extract().jsonPath();
            String status = p.getString("status");
            if (status.equals("EXECUTED") || status.equals("PARTIAL")) {
                return p;
            }
            sleep(100);
        }
        throw new AssertionError("plan " + plan + " still executing");
    }

    /** Waits until {@code subject} has {@code count} audit entries of {@code action}. */
    public static void awaitAudit(String subject, String action, int count) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        int n = -1;
        while (System.nanoTime() < deadline) {
            n = Api.admin().queryParam("subject", subject).queryParam("action", action).get("/api/audit").then().statusCode(200)
                    .extract().path("items.size()");
            if (n >= count) {
                return;
            }
            sleep(50);
        }
        throw new AssertionError(subject + " has " + n + " " + action + " entries, not " + count);
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * An erase of {@code machine} allowed through the gate as the product asks for one: a request, two approvers (erases of
     * other tests share the appliance-wide window), the erase (ERASING; its agent's boot set through the BMC).
     */
    public static void allowedErase(String machine) {
        String request = operator().body(Map.of("action", "ERASE", "reason", "reclaim")).post("/api/machines/" + machine + "/action-requests")
                .then().statusCode(201).extract().path("id");
        Api.as("approver").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        Api.as("approver", "test-approver-2").body(Map.of()).post("/api/action-requests/" + request + "/approve").then().statusCode(200);
        operator().body(Map.of("requestId", request)).post("/api/machines/" + machine + "/actions/erase").then().statusCode(200)
                .body("state", org.hamcrest.Matchers.equalTo("ERASING"));
    }
}
