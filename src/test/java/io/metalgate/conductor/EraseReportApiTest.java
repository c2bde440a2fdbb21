package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The erase agent's side through the API (the agent simulated over HTTP): the technique per disk from what the drive
 * reports; a report that leaves out a disk or claims success with a failed read-back is refused and the machine goes
 * ERASE_FAILED; a complete, verified one earns a signed certificate (which verifies with the appliance's key), the
 * machine is ERASED, its data released, and REASSIGN is allowed.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class EraseReportApiTest {

    static String capture(String name) throws java.io.IOException {
        return new String(EraseReportApiTest.class.getResourceAsStream("/erase-captures/" + name).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void onlyAVerifiedReportOfEveryDiskEarnsACertificate() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "cert"));
            List<String> tokens = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String m = fleet.machines().get(i);
                Lifecycle.allowedErase(m);
                String script = given().queryParam("mac", bmcs.bmc(i).mac(1)).get("/boot/ipxe").then().extract().asString();
                Matcher t = Pattern.compile("metalgate\\.token=([A-Za-z0-9_-]{43})").matcher(script);
                assertTrue(t.find(), script);
                tokens.add(t.group(1));
            }
            String first = fleet.machines().get(0);
            List<Map<String, Object>> disks = operator().get("/api/machines/" + first + "/inventory").then().extract().jsonPath().getList("disks");
            String kingston = new String(EraseAgentApiTest.class.getResourceAsStream("/erase-captures/kingston-snv2s250g.nvme-id-ctrl.txt")
                    .readAllBytes());
            // an ATA drive with a Host Protected Area: opened first (its -N output as a drive printed it), or the disk fails when a
            // DCO hides sectors the policy may not restore
            String samsung = capture("samsung-hm500ji.hdparm-I.txt");
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disk", Map.of("serialNumber", disks.get(0).get("serialNumber"),
                    "transport", "ATA", "hdparmI", samsung, "hdparmN", capture("forensicswiki-sdc.hdparm-N.txt")))).post("/api/agent/technique")
                    .then().statusCode(200).body("technique", equalTo("ATA_SECURITY_ERASE_ENHANCED")).body("prepare", equalTo("SET_MAX:586072368"));
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disk", Map.of("serialNumber", disks.get(0).get("serialNumber"),
                    "transport", "ATA", "hdparmI", samsung, "hdparmN", " max sectors   = 976717824/976717824, HPA is disabled\n",
                    "dcoIdentify", capture("wdc-wd5000bmvv.hdparm-dco-identify.txt")))).post("/api/agent/technique").then().statusCode(200)
                    .body("technique", nullValue()).body("notes", hasItem(org.hamcrest.Matchers.containsString("hides 55344 sectors")));
            // an NVMe drive that offers only Format (the Micron capture's FNA changed to 0x4, crypto erase: PURGE), with two namespaces:
            // the Format would leave one behind, the disk fails
            String cryptoFormatOnly = capture("micron-9200.nvme-id-ctrl.txt").replaceFirst("(?m)^fna     : 0$", "fna     : 0x4");
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disk", Map.of("serialNumber", disks.get(0).get("serialNumber"),
                    "transport", "NVME", "nvmeIdCtrl", cryptoFormatOnly, "nvmeListNs", "[   0]:0x1\n"))).post("/api/agent/technique").then()
                    .statusCode(200).body("technique", equalTo("NVME_FORMAT_CRYPTO"));
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disk", Map.of("serialNumber", disks.get(0).get("serialNumber"),
                    "transport", "NVME", "nvmeIdCtrl", cryptoFormatOnly, "nvmeListNs",
                    capture("renesas-spider.nvme-list-ns-a.txt")))).post("/api/agent/technique").then().statusCode(200)
                    .body("technique", nullValue()).body("notes", hasItem(org.hamcrest.Matchers.containsString("1 other namespace(s)")));
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disk", Map.of("serialNumber", disks.get(0).get("serialNumber"),
                    "transport", "NVME", "nvmeIdCtrl", kingston))).post("/api/agent/technique").then().statusCode(200)
                    .body("technique", equalTo("NVME_SANITIZE_BLOCK")).body("method", equalTo("PURGE"));
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disk", Map.of("serialNumber", "NOT-OURS", "transport", "NVME")))
                    .post("/api/agent/technique").then().statusCode(400);

            // machine 1: one disk left out, another with a failed read-back: refused, ERASE_FAILED, no certificate
            List<Map<String, Object>> bad = new ArrayList<>();
            bad.add(disk(disks.get(0), false));
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disks", bad)).post("/api/agent/report").then().statusCode(200)
                    .body("state", equalTo("ERASE_FAILED")).body("refusals", hasItem(org.hamcrest.Matchers.containsString("read-back did not pass")));
            operator().get("/api/machines/" + first + "/erase-certificates").then().statusCode(200).body("size()", equalTo(0));
            given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(0), "disks", bad)).post("/api/agent/report").then().statusCode(401);
            Lifecycle.awaitAudit("machine:" + first, "erase.report-refused", 1);

            // machine 2: every disk, each verified
            String second = fleet.machines().get(1);
            List<Map<String, Object>> disks2 = operator().get("/api/machines/" + second + "/inventory").then().extract().jsonPath().getList("disks");
            List<Map<String, Object>> good = disks2.stream().map(d -> disk(d, true)).toList();
            io.metalgate.testing.Erases.prove(second, tokens.get(1));
            String cert = given().contentType(ContentType.JSON).body(Map.of("token", tokens.get(1), "disks", good)).post("/api/agent/report").then()
                    .statusCode(200).body("state", equalTo("ERASED")).body("certificateId", notNullValue()).extract().path("certificateId");
            var c = operator().get("/api/machines/" + second + "/erase-certificates").then().statusCode(200).body("[0].id", equalTo(cert))
                    .extract().jsonPath();
            assertEquals(disks2.size(), c.getList("[0].body.disks").size());
            assertEquals("PURGE", c.getString("[0].body.disks[0].method"));
            assertEquals("test-operator", c.getString("[0].body.decision.requestedBy"));
            // the signature verifies with the appliance's key over the canonical body
            var body = new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(c.getMap("[0].body"));
            byte[] signed = io.metalgate.evidence.CanonicalJson.write((com.fasterxml.jackson.databind.JsonNode) body).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            var key = java.security.KeyFactory.getInstance("Ed25519").generatePublic(new java.security.spec.X509EncodedKeySpec(
                    java.util.Base64.getDecoder().decode(c.getString("[0].publicKey"))));
            assertTrue(io.metalgate.evidence.SigningKeys.verify(key, signed, c.getString("[0].signature")), "the certificate's signature");
            Lifecycle.awaitAudit("machine:" + second, "erase.certificate-issued", 1);
            // offline, as an auditor checks it: with the appliance's key fingerprint; altered; with no or another key
            String fp = io.metalgate.testing.Api.admin().get("/api/audit/key").then().extract().path("fingerprint");
            String json = operator().get("/api/machines/" + second + "/erase-certificates").then().extract().asString();
            java.nio.file.Path file = java.nio.file.Files.createTempFile("certificates", ".json");
            java.nio.file.Files.writeString(file, json);
            assertEquals(0, io.metalgate.evidence.CertificateCli.run("certificate", "verify", file.toString(), "--key", fp));
            java.nio.file.Path altered = java.nio.file.Files.createTempFile("altered", ".json");
            java.nio.file.Files.writeString(altered, json.replace((String) disks2.get(0).get("serialNumber"), "SOMEONE-ELSES-DISK"));
            assertEquals(1, io.metalgate.evidence.CertificateCli.run("certificate", "verify", altered.toString(), "--key", fp));
            assertEquals(3, io.metalgate.evidence.CertificateCli.run("certificate", "verify", file.toString(), "--key", "0".repeat(64)));
            assertEquals(3, io.metalgate.evidence.CertificateCli.run("certificate", "verify", file.toString()));
            // an erased machine leaves ERASED only by REASSIGN: a change of its BMC (which re-enrolls a machine, back to the
            // pool and into a lease) is refused, so no path skips the certificate and holds REASSIGN checks
            operator().contentType(ContentType.JSON).body(Map.of("bmc", Map.of("port", 8443))).patch("/api/machines/" + second).then()
                    .statusCode(409).body("detail", org.hamcrest.Matchers.containsString("reassigned first"));
            operator().get("/api/machines/" + second).then().statusCode(200).body("state", equalTo("ERASED"));
            // its data is gone: reassignable, and REASSIGN is allowed with the certificate
            operator().get("/api/machines/" + second + "/gate?action=reassign").then().statusCode(200).body("decision.allowed", equalTo(true));
            operator().post("/api/machines/" + second + "/actions/reassign").then().statusCode(200).body("state", equalTo("AVAILABLE"));
        }
    }

    /**
     * The agent's times are checked against what the appliance saw: an agent whose clock is two hours behind (an RTC
     * kept in local time) is refused; a report in the window, its serials padded and in another case than the BMC's,
     * is accepted, and the certificate records when the appliance received it.
     */
    @Test
    void agentTimesOutsideTheAppliancesWindowAreRefusedAndSerialsMatchWithoutPaddingOrCase() {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "times"));
            String first = fleet.machines().get(0);
            Lifecycle.allowedErase(first);
            String token = io.metalgate.testing.Erases.token(bmcs, 0);
            io.metalgate.testing.Erases.prove(first, token);
            Instant behind = Instant.now().minus(java.time.Duration.ofHours(2));
            List<Map<String, Object>> late = new ArrayList<>();
            for (Map<String, Object> d : inventory(first)) {
                Map<String, Object> x = new java.util.LinkedHashMap<>(io.metalgate.testing.Erases.disk(d, true, null));
                x.put("startedAt", behind.toString());
                x.put("endedAt", behind.plusSeconds(60).toString());
                late.add(x);
            }
            given().contentType(ContentType.JSON).body(Map.of("token", token, "disks", late)).post("/api/agent/report").then().statusCode(200)
                    .body("state", equalTo("ERASE_FAILED")).body("certificateId", org.hamcrest.Matchers.nullValue())
                    .body("refusals", hasItem(org.hamcrest.Matchers.containsString("before its agent's token was issued")));
            Lifecycle.awaitAudit("machine:" + first, "erase.report-refused", 1);

            String second = fleet.machines().get(1);
            Lifecycle.allowedErase(second);
            String token2 = io.metalgate.testing.Erases.token(bmcs, 1);
            io.metalgate.testing.Erases.prove(second, token2);
            Instant sent = Instant.now();
            List<Map<String, Object>> spelled = new ArrayList<>();
            for (Map<String, Object> d : inventory(second)) {
                Map<String, Object> x = new java.util.LinkedHashMap<>(io.metalgate.testing.Erases.disk(d, true, null));
                x.put("serialNumber", "  " + String.valueOf(d.get("serialNumber")).toLowerCase(java.util.Locale.ROOT) + "    ");
                x.put("startedAt", sent.minusSeconds(1).toString());
                x.put("endedAt", sent.toString());
                spelled.add(x);
            }
            String cert = given().contentType(ContentType.JSON).body(Map.of("token", token2, "disks", spelled)).post("/api/agent/report").then()
                    .statusCode(200).body("state", equalTo("ERASED")).extract().path("certificateId");
            var c = operator().get("/api/machines/" + second + "/erase-certificates").then().statusCode(200).body("[0].id", equalTo(cert)).extract()
                    .jsonPath();
            Instant received = Instant.parse(c.getString("[0].body.disks[0].receivedAt"));
            assertTrue(!received.isBefore(sent) && !received.isAfter(Instant.now()), "receivedAt " + received + " is the appliance's time of receipt");
            // the REASSIGN gate matches the certificate's spelling with the inventory's too
            operator().get("/api/machines/" + second + "/gate?action=reassign").then().statusCode(200).body("decision.allowed", equalTo(true));
        }
    }

    private static List<Map<String, Object>> inventory(String machine) {
        return operator().get("/api/machines/" + machine + "/inventory").then().statusCode(200).extract().jsonPath().getList("disks");
    }

    private static Map<String, Object> disk(Map<String, Object> inv, boolean verified) {
        Instant start = Instant.now().minusSeconds(60);
        return Map.of("serialNumber", inv.get("serialNumber"), "model", String.valueOf(inv.get("model")), "technique", "NVME_SANITIZE_BLOCK",
                "tool", "nvme-cli", "toolVersion", "2.4", "verification", Map.of("method", "read-back", "sampledBlocks", 256, "firstAndLastMiB", true,
                        "partitionAreas", true, "mismatches", verified ? 0 : 3, "passed", verified),
                "startedAt", start.toString(), "endedAt", start.plusSeconds(30).toString(), "result", "SUCCESS");
    }
}
