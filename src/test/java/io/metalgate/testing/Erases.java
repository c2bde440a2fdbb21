package io.metalgate.testing;

import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;

import io.metalgate.redfishmock.RedfishMock;
import io.restassured.http.ContentType;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An ERASING machine's agent, simulated over HTTP as the product sees it: its boot script's token (fetched from this
 * address, which the token is then bound to), and its final report of every inventory disk.
 */
public final class Erases {

    private Erases() {
    }

    /** The agent token of the ERASING machine behind BMC {@code i} of {@code bmcs}, from its boot script. */
    public static String token(RedfishMock bmcs, int i) {
        String script = given().queryParam("mac", bmcs.bmc(i).mac(1)).get("/boot/ipxe").then().statusCode(200).extract().asString();
        Matcher t = Pattern.compile("metalgate\\.token=([A-Za-z0-9_-]{43})").matcher(script);
        if (!t.find()) {
            throw new AssertionError("no agent token in the boot script: " + script);
        }
        return t.group(1);
    }

    /** One disk of a report, erased with the NVMe sanitize block erase; {@code model} as the agent read it (null: the inventory's). */
    public static Map<String, Object> disk(Map<String, Object> inventoryDisk, boolean verified, String model) {
        Instant start = Instant.now().minusSeconds(60);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("serialNumber", inventoryDisk.get("serialNumber"));
        d.put("model", model != null ? model : String.valueOf(inventoryDisk.get("model")));
        if (inventoryDisk.get("capacityBytes") != null) {
            d.put("capacityBytes", inventoryDisk.get("capacityBytes"));
        }
        d.put("technique", "NVME_SANITIZE_BLOCK");
        d.put("tool", "nvme-cli");
        d.put("toolVersion", "2.4");
        d.put("verification", Map.of("method", "read-back", "sampledBlocks", 256, "firstAndLastMiB", true, "partitionAreas", true,
                "mismatches", verified ? 0 : 3, "passed", verified));
        d.put("startedAt", start.toString());
        d.put("endedAt", start.plusSeconds(30).toString());
        d.put("result", "SUCCESS");
        return d;
    }

    /** The system UUID the machine's BMC reported at verification (one of its {@code system-uuid:} hardware ids). */
    public static String systemUuid(String machine) {
        return PostgresTestResource.sqlValue("SELECT substr(hardware_id, 13) FROM machine_hardware_id WHERE machine_id = ?::uuid AND hardware_id "
                + "LIKE 'system-uuid:%' ORDER BY hardware_id LIMIT 1", machine);
    }

    /** What NVMe id-ctrl prints of a drive offering sanitize block erase only (SANICAP bit 1): the appliance picks NVME_SANITIZE_BLOCK. */
    public static final String SANITIZE_BLOCK_ONLY = "sanicap   : 0x2\noacs      : 0\n";

    /**
     * The agent's steps before it erases, as the real one takes them: what it found on the machine's hardware (its
     * system UUID and the inventory's disks, {@code /api/agent/disks}) and the technique of each disk (an NVMe drive
     * offering sanitize block erase, {@code /api/agent/technique}).
     */
    public static void prove(String machine, String token) {
        List<Map<String, Object>> disks = operator().get("/api/machines/" + machine + "/inventory").then().statusCode(200).extract().jsonPath()
                .getList("disks");
        given().contentType(ContentType.JSON).body(Map.of("token", token, "systemUuid", systemUuid(machine), "disks", disks.stream()
                .map(d -> Map.of("serialNumber", d.get("serialNumber"), "transport", "NVME")).toList())).post("/api/agent/disks").then()
                .statusCode(200);
        for (Map<String, Object> d : disks) {
            given().contentType(ContentType.JSON).body(Map.of("token", token, "disk", Map.of("serialNumber", d.get("serialNumber"), "transport", "NVME",
                    "nvmeIdCtrl", SANITIZE_BLOCK_ONLY))).post("/api/agent/technique").then().statusCode(200);
        }
    }

    /** The agent's report of every inventory disk of {@code machine}; {@code verified} false: a failed read-back. The answer. */
    public static io.restassured.path.json.JsonPath report(String machine, String token, boolean verified, String model) {
        prove(machine, token);
        List<Map<String, Object>> disks = operator().get("/api/machines/" + machine + "/inventory").then().statusCode(200).extract().jsonPath()
                .getList("disks");
        return given().contentType(ContentType.JSON).body(Map.of("token", token, "disks", disks.stream().map(d -> disk(d, verified, model))
                .toList())).post("/api/agent/report").then().statusCode(200).extract().jsonPath();
    }

    /** A verified report of every disk: the machine is ERASED; its certificate's id. */
    public static String certified(RedfishMock bmcs, int i, String machine, String model) {
        var answer = report(machine, token(bmcs, i), true, model);
        if (!"ERASED".equals(answer.getString("state"))) {
            throw new AssertionError("the report was refused: " + answer.prettify());
        }
        return answer.getString("certificateId");
    }
}
