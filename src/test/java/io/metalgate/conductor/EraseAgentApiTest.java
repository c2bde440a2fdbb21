package io.metalgate.conductor;

import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * From an allowed erase to the agent's task, through the product: the erase sets a one-time PXE boot and
 * power-cycles through the BMC, the machine's boot script hands the agent its token, the agent's task is decided
 * again by the gate — and a hold placed while the machine boots means no task, a spent token and ERASE_FAILED.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class EraseAgentApiTest {

    @Test
    void theAgentGetsItsTaskOnlyWhileTheGateStillAllowsIt() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 1, "agent"));
            String m = fleet.machines().get(0);
            Lifecycle.allowedErase(m);
            assertEquals("Pxe", bmcs.bmc(0).lastBootTarget(), "booted from the network");

            // the machine's firmware asks for its script: the agent, with a token
            String script = given().queryParam("mac", bmcs.bmc(0).mac(1)).get("/boot/ipxe").then().statusCode(200).extract().asString();
            Matcher t = Pattern.compile("metalgate\\.token=([A-Za-z0-9_-]{43})").matcher(script);
            org.junit.jupiter.api.Assertions.assertTrue(t.find(), script);
            String token = t.group(1);

            // the token is the booting machine's address's: knowing the MAC and fetching the script elsewhere does not make an agent
            org.junit.jupiter.api.Assertions.assertTrue(fromOtherAddress("/api/agent/task", "{\"token\":\"" + token + "\"}").contains(" 401 "));
            java.util.List<String> inventory = operator().get("/api/machines/" + m + "/inventory").then().statusCode(200).extract().jsonPath()
                    .getList("disks.serialNumber");
            org.junit.jupiter.api.Assertions.assertFalse(inventory.isEmpty());
            java.util.List<String> task = given().contentType(ContentType.JSON).body(Map.of("token", token)).post("/api/agent/task").then()
                    .statusCode(200).body("task", equalTo("ERASE")).body("machineId", equalTo(m)).extract().jsonPath().getList("disks.serialNumber");
            assertEquals(inventory, task, "every disk of the inventory, which the certificate must cover");
            // no disk before the agent showed it runs on this machine's hardware; then its disks
            given().contentType(ContentType.JSON).body(Map.of("token", token, "nextDisk", task.get(0))).post("/api/agent/task").then()
                    .statusCode(409);
            given().contentType(ContentType.JSON).body(Map.of("token", token, "systemUuid", bmcs.bmc(0).systemUuid().toString(), "disks",
                    task.stream().map(serial -> Map.of("serialNumber", serial)).toList())).post("/api/agent/disks").then().statusCode(200)
                    .body("task", equalTo("ERASE")).body("disks.serialNumber", equalTo(task));
            // progress, shown to the NOC
            given().contentType(ContentType.JSON).body(Map.of("token", token, "serialNumber", task.get(0), "phase", "ERASING", "percent", 40))
                    .post("/api/agent/progress").then().statusCode(204);
            operator().get("/api/machines/" + m + "/erase").then().statusCode(200).body("state", equalTo("ERASING"))
                    .body("disks[0].serialNumber", equalTo(task.get(0))).body("disks[0].percent", equalTo(40))
                    .body("lastHeard", org.hamcrest.Matchers.notNullValue());
            given().contentType(ContentType.JSON).body(Map.of("token", "y".repeat(43), "serialNumber", "x", "phase", "ERASING", "percent", 1))
                    .post("/api/agent/progress").then().statusCode(401);
            // and again before the next disk: still allowed
            given().contentType(ContentType.JSON).body(Map.of("token", token, "nextDisk", "disk-2")).post("/api/agent/task").then()
                    .statusCode(200).body("task", equalTo("ERASE"));

            // counsel asks for preservation while the agent works: the next ask gets no task, with the reason
            as("legal").body(Map.of("kind", "PRESERVATION_REQUEST", "tenantId", fleet.tenant(), "reason", "letter from counsel"))
                    .post("/api/holds").then().statusCode(201);
            given().contentType(ContentType.JSON).body(Map.of("token", token, "nextDisk", "disk-3")).post("/api/agent/task").then()
                    .statusCode(200).body("task", equalTo("NONE")).body("reasons.code", contains("HOLD"));
            operator().get("/api/machines/" + m).then().body("state", equalTo("ERASE_FAILED"));
            // the token is spent; a made-up one is nothing
            given().contentType(ContentType.JSON).body(Map.of("token", token)).post("/api/agent/task").then().statusCode(401);
            given().contentType(ContentType.JSON).body(Map.of("token", "x".repeat(43))).post("/api/agent/task").then().statusCode(401);
            given().contentType(ContentType.JSON).body("{}").post("/api/agent/task").then().statusCode(400);
            // every ask is a gate decision in the machine's audit trail, made by its agent
            Lifecycle.awaitAudit("machine:" + m, "gate.decided", 5);
            io.metalgate.testing.Api.admin().queryParam("subject", "machine:" + m).queryParam("action", "gate.decided").get("/api/audit")
                    .then().body("items.actor", hasItem("agent:" + m));
        }
    }

    @jakarta.inject.Inject
    EraseProgress progress;

    /** An erase whose agent never reports is not ERASING for ever: it times out into ERASE_FAILED with the reason. */
    @Test
    void anEraseThatStopsReportingFails() throws Throwable {
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            String m = Lifecycle.available(bmcs, 1, "silent").get(0);
            // ERASING with nothing ever heard of it (the state set here as the fact it is)
            PostgresTestResource.sql("UPDATE machine SET lifecycle_state = 'ERASING' WHERE id = ?::uuid", m);
            org.junit.jupiter.api.Assertions.assertTrue(io.quarkus.vertx.VertxContextSupport.subscribeAndAwait(() -> progress.timeOut()) >= 1);
            operator().get("/api/machines/" + m).then().body("state", equalTo("ERASE_FAILED"));
            Lifecycle.awaitAudit("machine:" + m, "machine.transitioned", 1);
        }
    }

    /** A POST from 127.0.0.2 (another address than the tests' client); the status line and headers. */
    static String fromOtherAddress(String path, String json) throws Exception {
        try (var socket = new java.net.Socket()) {
            socket.bind(new java.net.InetSocketAddress("127.0.0.2", 0));
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", io.restassured.RestAssured.port), 5000);
            socket.setSoTimeout(10_000);
            byte[] body = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().write(body);
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
