package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Api;
import io.metalgate.testing.Erases;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A report is believed for what the appliance saw of the erase, not for what it says of itself (the red team's F1–F3
 * on the erase path): without the agent's own steps — showing it runs on the machine's hardware, being told each disk's
 * technique — a report of every disk "verified" is a story, and is refused; an agent on other hardware, or on hardware
 * that cannot be shown to be the machine's, is stopped before any disk; and a refusal, however long its reasons, is
 * recorded (it once rolled back on a column too short, leaving the machine ERASING and the token usable).
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class AgentProofsTest {

    private static Map<String, Object> verified(Object serial, String technique) {
        Instant s = Instant.now().minusSeconds(30);
        return Map.of("serialNumber", serial, "technique", technique, "tool", "nvme-cli", "toolVersion", "2.4", "verification",
                Map.of("method", "read-back", "sampledBlocks", 256, "mismatches", 0, "passed", true), "startedAt", s.toString(), "endedAt",
                s.plusSeconds(10).toString(), "result", "SUCCESS");
    }

    private static List<Object> serials(String machine) {
        return operator().get("/api/machines/" + machine + "/inventory").then().statusCode(200).extract().jsonPath().getList("disks.serialNumber");
    }

    @Test
    void aReportMadeUpWithoutTheAgentsStepsIsRefused() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "made-up"));
            // 1: every disk "verified", without /disks or /technique (a token minted from a MAC, a script that lies)
            String m = fleet.machines().get(0);
            Lifecycle.allowedErase(m);
            String token = Erases.token(bmcs, 0);
            given().contentType(ContentType.JSON).body(Map.of("token", token, "disks", serials(m).stream().map(s -> verified(s, "NVME_SANITIZE_BLOCK"))
                    .toList())).post("/api/agent/report").then().statusCode(200).body("state", equalTo("ERASE_FAILED"))
                    .body("refusals", hasItem(containsString("never showed it runs on this machine's hardware")))
                    .body("refusals", hasItem(containsString("no technique was chosen")));
            operator().get("/api/machines/" + m + "/erase-certificates").then().body("size()", equalTo(0));

            // 2: the agent's steps taken, but the report names a stronger technique than the one chosen
            String m2 = fleet.machines().get(1);
            Lifecycle.allowedErase(m2);
            String token2 = Erases.token(bmcs, 1);
            Erases.prove(m2, token2);
            given().contentType(ContentType.JSON).body(Map.of("token", token2, "disks", serials(m2).stream().map(s -> verified(s, "NVME_SANITIZE_CRYPTO"))
                    .toList())).post("/api/agent/report").then().statusCode(200).body("state", equalTo("ERASE_FAILED"))
                    .body("refusals", hasItem(containsString("not with NVME_SANITIZE_BLOCK that the appliance chose")));
        }
    }

    @Test
    void anAgentOnOtherHardwareIsStoppedBeforeAnyDiskAndItsLongRefusalIsRecorded() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "other-hw"));
            // another server (its own UUID) with 256 disks of long serials: refused, and the refusal kept whatever its length
            String m = fleet.machines().get(0);
            Lifecycle.allowedErase(m);
            String token = Erases.token(bmcs, 0);
            List<Map<String, Object>> many = new ArrayList<>();
            for (int i = 0; i < 256; i++) {
                many.add(Map.of("serialNumber", "OTHER-SERVER-DISK-" + i + "-" + "X".repeat(150), "transport", "SCSI"));
            }
            given().contentType(ContentType.JSON).body(Map.of("token", token, "systemUuid", UUID.randomUUID().toString(), "disks", many))
                    .post("/api/agent/disks").then().statusCode(409).body("detail", containsString("which is not this machine"));
            operator().get("/api/machines/" + m).then().body("state", equalTo("ERASE_FAILED"));
            Lifecycle.awaitAudit("machine:" + m, "erase.disks-refused", 1);
            given().contentType(ContentType.JSON).body(Map.of("token", token)).post("/api/agent/task").then().statusCode(401);

            // hardware that reports no UUID (or a vendor placeholder) cannot be shown to be the machine's: nothing is erased
            String m2 = fleet.machines().get(1);
            Lifecycle.allowedErase(m2);
            String token2 = Erases.token(bmcs, 1);
            given().contentType(ContentType.JSON).body(Map.of("token", token2, "systemUuid", "03000200-0400-0500-0006-000700080009", "disks",
                    serials(m2).stream().map(s -> Map.of("serialNumber", s)).toList())).post("/api/agent/disks").then().statusCode(409)
                    .body("detail", containsString("no usable system UUID"));
            operator().get("/api/machines/" + m2).then().body("state", equalTo("ERASE_FAILED"));
            Api.admin().queryParam("subject", "machine:" + m2).queryParam("action", "erase.disks-refused").get("/api/audit").then()
                    .body("items[0].payload.identityConfirmed", equalTo(false));
        }
    }
}
