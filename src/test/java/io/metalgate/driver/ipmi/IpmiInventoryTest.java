package io.metalgate.driver.ipmi;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.testing.IpmiSimProcess;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * IPMI machines have an identity and a basic inventory (issue 12, point 7): the FRU inventory read through
 * Get FRU Inventory Area Info and Read FRU Data, from the real OpenIPMI ipmi_sim serving a Dell R630's FRU
 * image (what ipmitool prints of it is in src/test/resources/ipmi-fru/SOURCE.md), and from the project's
 * simulator answering a few bytes at a time; the system GUID from Get System GUID where RAKP 2 sends zeros.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiInventoryTest {

    @Test
    void anIpmiMachineIsInspectedFromItsFruAgainstIpmiSim() throws Exception {
        byte[] fru = FruTest.dellR630();
        StringBuilder data = new StringBuilder();
        for (byte b : fru) {
            data.append(String.format(" 0x%02x", b & 0xff));
        }
        try (IpmiSimProcess sim = IpmiSimProcess.start("admin", "secret", "mc_add_fru_data 0x20 0x0 0x" + Integer.toHexString(fru.length)
                + " data" + data)) {
            // the oracle: ipmitool reads the same FRU the same way
            String printed = sim.ipmitool(3, "admin", "secret", "fru", "print", "0").output();
            assertTrue(printed.contains("Product Serial        : 95SF082"), printed);
            String m = operator().body(Map.of("name", unique("fru"), "bmc", Map.of("protocol", "IPMI", "host", sim.host, "port", sim.port,
                    "username", "admin", "password", "secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(m, "MANAGEABLE");
            operator().post("/api/machines/" + m + "/inventory").then().statusCode(200).body("manufacturer", equalTo("DELL"))
                    .body("serialNumber", equalTo("95SF082")).body("disks.size()", equalTo(0));
            Lifecycle.awaitState(m, "AVAILABLE");
            operator().get("/api/machines/" + m + "/inventory").then().statusCode(200).body("serialNumber", equalTo("95SF082"));
        }
    }

    @Test
    void aBmcThatReturnsFewBytesAtOnceAndNoGuidInRakpIsReadToo() throws Exception {
        int port;
        try (var probe = new java.net.DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(port).at(io.metalgate.testing.RedfishMocks.freshAddress()))) {
            var bmc = sim.bmc(0);
            // another R630 (the same image is the same server: its twin would be refused): service tag 95SF083
            byte[] fru = FruTest.dellR630();
            fru[256 + 47 + 6]++;
            fru[256 + 151]--; // the product area's checksum
            bmc.fru = fru;
            bmc.fruChunkLimit = 8; // 0xCA for anything more: the driver asks for less
            bmc.zeroGuidInRakp = true;
            String m = operator().body(Map.of("name", unique("fru-sim"), "bmc", Map.of("protocol", "IPMI", "host", sim.host(0), "port", port,
                    "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
            Lifecycle.awaitState(m, "MANAGEABLE");
            assertEquals("ipmi-guid:" + HexFormat.of().formatHex(bmc.guid()),
                    PostgresTestResource.sqlValue("SELECT bmc_hardware_id FROM machine WHERE id = ?::uuid", m), "from Get System GUID");
            operator().post("/api/machines/" + m + "/inventory").then().statusCode(200).body("manufacturer", equalTo("DELL"))
                    .body("serialNumber", equalTo("95SF083"));
            // the header and the board and product areas only, not the whole device: 8 + 72 + 152 bytes, 8 at a time
            assertTrue(bmc.fruReads <= 40, "Read FRU Data commands: " + bmc.fruReads);
        }
    }
}
