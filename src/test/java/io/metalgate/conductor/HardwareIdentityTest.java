package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One server is one machine, whichever way its BMC is named: a single-system BMC enrolled once without and once
 * with its system's id is one server (the system's UUID, told at verification), so the second enrolment fails
 * verification and can never be driven, leased or erased as a machine of its own.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class HardwareIdentityTest {

    @Test
    void theSingleSystemOfAnEnrolledBmcNamedByItsIdIsTheSameServer() {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String first = Lifecycle.enrol(bmcs, 0, "hw");
            Lifecycle.awaitState(first, "MANAGEABLE");
            String systemId = operator().body(Map.of("protocol", "REDFISH", "host", bmcs.addressOf(0), "port", bmcs.port(), "username", "admin",
                    "password", "redfish-secret")).post("/api/bmc-discovery").then().statusCode(200).extract().path("systems[0].systemId");
            // refused at enrolment: a BMC enrolled without a system id has one system, so naming it is the same server
            operator().body(Map.of("name", unique("hw-by-id"), "bmc", Map.of("protocol", "REDFISH", "host", bmcs.addressOf(0),
                    "port", bmcs.port(), "username", "admin", "password", "redfish-secret", "options", Map.of("systemId", systemId))))
                    .post("/api/machines").then().statusCode(409).body("detail", org.hamcrest.Matchers.containsString(first));
            // IPMI has no system ids: one would only make one BMC two records
            operator().body(Map.of("name", unique("hw-ipmi"), "bmc", Map.of("protocol", "IPMI", "host", bmcs.addressOf(0), "username", "admin",
                    "password", "x", "options", Map.of("systemId", "1")))).post("/api/machines").then().statusCode(400)
                    .body("errors.field", org.hamcrest.Matchers.hasItem("bmc.options.systemId"));
            org.junit.jupiter.api.Assertions.assertEquals("On", bmcs.bmc(0).powerState());
        }
    }

    /**
     * A BMC that reports no system UUID (the all-zero placeholder): a second record naming its only system is still the
     * same server (its system at its address is claimed); and once the first machine's BMC moves, its old address is
     * free for another server.
     */
    @Test
    void withoutASystemUuidTheSystemAtItsAddressIsTheIdentity() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            bmcs.bmc(0).faults.noSystemUuid = true;
            bmcs.bmc(1).faults.noSystemUuid = true;
            String first = Lifecycle.enrol(bmcs, 0, "nouuid");
            Lifecycle.awaitState(first, "MANAGEABLE");
            // a record that slipped past the enrolment check (as one enrolled before it, or by a spelling it cannot see) is
            // still caught when verified: the system at its address is claimed
            String twin = operator().body(Map.of("name", unique("nouuid-again"), "bmc", Map.of("protocol", "REDFISH", "host",
                    io.metalgate.testing.RedfishMocks.freshAddress(), "port", 1, "username", "admin", "password", "redfish-secret")))
                    .post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(twin, "VERIFY_FAILED"); // nothing answers there
            try (var c = PostgresTestResource.postgres().ownerConnection(); var ps = c.prepareStatement(
                    "UPDATE machine t SET bmc_host = f.bmc_host, bmc_port = f.bmc_port, bmc_identity = f.bmc_identity || '#system=slipped' "
                            + "FROM machine f WHERE f.id = ?::uuid AND t.id = ?::uuid")) {
                ps.setString(1, first);
                ps.setString(2, twin);
                ps.executeUpdate();
            }
            operator().post("/api/machines/" + twin + "/lifecycle/retry").then().statusCode(200);
            Lifecycle.awaitAudit("machine:" + twin, "bmc.twin-refused", 1);
            operator().body(Map.of("action", "off")).post("/api/machines/" + twin + "/power").then().statusCode(409);
            org.junit.jupiter.api.Assertions.assertEquals("On", bmcs.bmc(0).powerState());
            operator().delete("/api/machines/" + twin).then().statusCode(204);
            // the first machine's BMC moves to the other board: its old address is another server's to claim
            var moved = operator().body(Map.of("bmc", Map.of("host", bmcs.addressOf(1)))).patch("/api/machines/" + first);
            org.junit.jupiter.api.Assertions.assertEquals(200, moved.statusCode(), moved.asString());
            Lifecycle.awaitState(first, "MANAGEABLE");
            String next = Lifecycle.enrol(bmcs, 0, "nouuid-next");
            Lifecycle.awaitState(next, "MANAGEABLE");
        }
    }

    /** The same server over IPMI (its system GUID, in any of the byte orders vendors use) and Redfish (its UUID) is one machine. */
    @Test
    void theSameServerOverIpmiAndRedfishIsOneMachine() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String redfish = Lifecycle.enrol(bmcs, 0, "hw-rf");
            Lifecycle.awaitState(redfish, "MANAGEABLE");
            String uuid = operator().body(Map.of("protocol", "REDFISH", "host", bmcs.addressOf(0), "port", bmcs.port(), "username", "admin",
                    "password", "redfish-secret")).post("/api/bmc-discovery").then().statusCode(200).extract().path("systems[0].uuid");
            byte[] g = java.util.HexFormat.of().parseHex(uuid.replace("-", ""));
            byte[] wire = new byte[16];
            for (int i = 0; i < 16; i++) {
                wire[i] = g[15 - i]; // as IPMI sends it, least significant byte first
            }
            int port;
            try (var probe = new java.net.DatagramSocket(0)) {
                port = probe.getLocalPort();
            }
            try (var sim = io.metalgate.ipmisim.IpmiSim.start(io.metalgate.ipmisim.IpmiSim.Options.one(port)
                    .at(io.metalgate.testing.RedfishMocks.freshAddress()))) {
                sim.bmc(0).setGuid(wire);
                String ipmi = operator().body(Map.of("name", unique("hw-ipmi"), "bmc", Map.of("protocol", "IPMI", "host", sim.host(0), "port", port,
                        "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
                Lifecycle.awaitState(ipmi, "VERIFY_FAILED");
                Lifecycle.awaitAudit("machine:" + ipmi, "bmc.twin-refused", 1);
            }
        }
    }

    /**
     * A verified machine moved to another BMC is verified again before anything drives it; a machine in service keeps
     * its BMC.
     */
    @Test
    void aMachineWhoseBmcChangesIsVerifiedAgain() {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            String m = Lifecycle.available(bmcs, 1, "hw-move").get(0);
            operator().body(Map.of("bmc", Map.of("host", bmcs.addressOf(1)))).patch("/api/machines/" + m).then().statusCode(200)
                    .body("state", equalTo("ENROLLED"));
            Lifecycle.awaitState(m, "MANAGEABLE");
            Lifecycle.awaitAudit("machine:" + m, "machine.updated", 1);
            // in service: its BMC stays
            String tenant = operator().body(Map.of("name", unique("hw-t"))).post("/api/tenants").then().extract().path("id");
            operator().post("/api/machines/" + m + "/lifecycle/make_available").then().statusCode(200);
            Lifecycle.activeLease(tenant, java.util.List.of(m));
            operator().body(Map.of("bmc", Map.of("port", bmcs.port() + 1))).patch("/api/machines/" + m).then().statusCode(409)
                    .body("detail", org.hamcrest.Matchers.containsString("ACTIVE"));
        }
    }
}
