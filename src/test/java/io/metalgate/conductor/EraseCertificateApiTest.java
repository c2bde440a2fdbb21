package io.metalgate.conductor;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.metalgate.evidence.CertificateCli;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Erases;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * One erase certificate: as the file {@code certificate verify} checks (every one-byte change of it fails), as a
 * printable page (every value escaped), 404 for another machine's; and certificates across an audit key hand-over:
 * each is signed by the key of its time and verifies with it, with the other key only through the hand-over the file
 * carries, and without that evidence is "untrusted" (exit 3), never "valid".
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class EraseCertificateApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** What an agent might say a disk's model is: the page must show it, as text. */
    private static final String HOSTILE = "<script>alert('x')</script> & \"Co\"";

    record Cli(int code, String out) {
    }

    /** The offline verifier, as an auditor runs it, on {@code content} saved as a file. */
    static Cli verify(String content, String... options) throws Exception {
        return verify(content.getBytes(StandardCharsets.UTF_8), options);
    }

    static Cli verify(byte[] content, String... options) throws Exception {
        Path file = Files.createTempFile("certificate", ".json");
        try {
            Files.write(file, content);
            List<String> args = new ArrayList<>(List.of("certificate", "verify", file.toString()));
            args.addAll(List.of(options));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
            int code = CertificateCli.run(args.toArray(new String[0]), ps, ps, Map.of());
            return new Cli(code, out.toString(StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static String download(String machine, String certificate) {
        return operator().accept("application/json").get("/api/machines/" + machine + "/erase-certificates/" + certificate).then()
                .statusCode(200).contentType("application/json").extract().asString();
    }

    static String currentKey() {
        return admin().get("/api/audit/key").then().statusCode(200).extract().path("fingerprint");
    }

    @Test
    void oneCertificateIsTheFileTheVerifierChecksAndAPrintablePage() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "page"));
            String machine = fleet.machines().get(0);
            String other = fleet.machines().get(1);
            Lifecycle.allowedErase(machine);
            String cert = Erases.certified(bmcs, 0, machine, HOSTILE);
            String base = "/api/machines/" + machine + "/erase-certificates/" + cert;

            // JSON by default (any Accept), as a download named after the certificate
            String json = operator().get(base).then().statusCode(200).contentType("application/json")
                    .header("Content-Disposition", "attachment; filename=\"erase-certificate-" + cert + ".json\"").extract().asString();
            assertEquals(json, download(machine, cert));
            var c = JSON.readTree(json);
            assertEquals(cert, c.path("id").asText());
            assertEquals(HOSTILE, c.path("body").path("disks").path(0).path("model").asText());
            String fp = currentKey();
            assertEquals(fp, c.path("keyFingerprint").asText());
            // what the endpoint answers is what `certificate verify` accepts: exit 0 with the appliance's key ...
            Cli ok = verify(json, "--key", fp);
            assertEquals(0, ok.code(), ok.out());
            // ... and every one-byte change of it fails (altered, untrusted or unreadable: never 0)
            List<String> passed = new ArrayList<>();
            byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i++) {
                byte[] changed = bytes.clone();
                changed[i] = other(bytes[i]);
                if (verify(changed, "--key", fp).code() == 0) {
                    passed.add(i + ": " + json.substring(Math.max(0, i - 20), Math.min(json.length(), i + 20)));
                }
            }
            assertTrue(passed.isEmpty(), passed.size() + " one-byte changes still verify: " + passed);
            assertEquals(3, verify(json, "--key", "0".repeat(64)).code());

            // the printable page: every value escaped, the signed facts, how to verify offline
            String html = operator().accept("text/html").get(base).then().statusCode(200).contentType("text/html").extract().asString();
            assertFalse(html.contains("<script>"), "unescaped agent text in the page");
            assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"), html);
            var body = c.path("body");
            for (String expected : List.of(machine, body.path("issuedAt").asText(), body.path("machine").path("serialNumber").asText(),
                    body.path("disks").path(0).path("serialNumber").asText(), "PURGE", body.path("disks").path(0).path("technique").asText(),
                    "nvme-cli 2.4", "256 random blocks, first and last MiB, partition table areas", "passed, 0 mismatching block(s)",
                    body.path("disks").path(0).path("startedAt").asText(), body.path("disks").path(0).path("endedAt").asText(),
                    "test-operator", "test-approver, test-approver-2", "audit entry seq " + body.path("decision").path("auditSeq").asLong(),
                    fp, c.path("signature").asText(),
                    "java -jar target/quarkus-app/quarkus-run.jar certificate verify erase-certificate-" + cert + ".json --key " + fp)) {
                assertTrue(html.contains(expected), "the page lacks " + expected);
            }
            if (body.path("disks").path(0).has("capacityBytes")) {
                assertTrue(html.contains("(" + body.path("disks").path(0).path("capacityBytes").asLong() + " bytes)"), html);
            }
            assertTrue(html.contains("@media print"), "the style sheet is the template's, not parsed by Qute");

            // another machine's certificate, or none: 404 problem+json either way; the list's roles
            operator().get("/api/machines/" + other + "/erase-certificates/" + cert).then().statusCode(404)
                    .contentType("application/problem+json");
            operator().accept("text/html").get("/api/machines/" + other + "/erase-certificates/" + cert).then().statusCode(404)
                    .contentType("application/problem+json");
            operator().get("/api/machines/" + machine + "/erase-certificates/" + UUID.randomUUID()).then().statusCode(404)
                    .contentType("application/problem+json").body("status", equalTo(404));
            given().get(base).then().statusCode(401);
            as("viewer").get(base).then().statusCode(200);
            as("viewer").accept("text/html").get(base).then().statusCode(200);
        }
    }

    /** A different byte that is still text: a digit for a digit, a letter for a letter, else something else. */
    private static byte other(byte b) {
        if (b >= '0' && b <= '9') {
            return (byte) (b == '9' ? '0' : b + 1);
        }
        if (b >= 'a' && b <= 'z') {
            return (byte) (b == 'z' ? 'a' : b + 1);
        }
        if (b >= 'A' && b <= 'Z') {
            return (byte) (b == 'Z' ? 'A' : b + 1);
        }
        return (byte) (b == ' ' ? '_' : ' ');
    }

    @Test
    void certificatesOnEitherSideOfAKeyHandOverVerifyWithTheKeyOfTheirTime() throws Exception {
        try (RedfishMock bmcs = Lifecycle.bmcs(2, Profile.GENERIC)) {
            var fleet = Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 2, "rotation"));
            String first = fleet.machines().get(0);
            String second = fleet.machines().get(1);
            Lifecycle.allowedErase(first);
            Lifecycle.allowedErase(second);
            String old = currentKey();
            String before = Erases.certified(bmcs, 0, first, null);

            String fresh = admin().body(Map.of("reason", "test: certificates across a hand-over")).post("/api/audit/key/rotations").then()
                    .statusCode(200).extract().path("fingerprint");
            assertNotEquals(old, fresh);
            String after = Erases.certified(bmcs, 1, second, null);
            Path dataDir = PostgresTestResource.dataDir();

            // issued before the hand-over: signed by the key of its time, which the file still names and carries
            String early = download(first, before);
            var e = JSON.readTree(early);
            assertEquals(old, e.path("keyFingerprint").asText());
            assertEquals(old, e.path("body").path("signingKey").asText());
            assertEquals(0, verify(early, "--key", old).code());
            Cli pinned = verify(early, "--data-dir", dataDir.toString());
            assertEquals(0, pinned.code(), pinned.out());
            Cli viaNew = verify(early, "--key", fresh);
            assertEquals(0, viaNew.code(), viaNew.out());
            assertTrue(viaNew.out().contains("through the key hand-over(s) to the trusted key " + fresh), viaNew.out());
            assertEquals(3, verify(withoutHistory(early), "--key", fresh).code());
            assertEquals(0, verify(withoutHistory(early), "--key", old).code());

            // issued after it: signed by the new key; the old (pinned) key trusts it only through the hand-over it signed
            String late = download(second, after);
            var l = JSON.readTree(late);
            assertEquals(fresh, l.path("keyFingerprint").asText());
            assertEquals(0, verify(late, "--key", fresh).code());
            Cli viaOld = verify(late, "--key", old);
            assertEquals(0, viaOld.code(), viaOld.out());
            assertEquals(0, verify(late, "--data-dir", dataDir.toString()).code());
            Cli noEvidence = verify(withoutHistory(late), "--key", old);
            assertEquals(3, noEvidence.code(), noEvidence.out());
            assertTrue(noEvidence.out().contains("UNTRUSTED"), noEvidence.out());
            assertEquals(0, verify(withoutHistory(late), "--key", fresh).code());
            // the machine's list, after the hand-over, is one file of both kinds
            String list = operator().get("/api/machines/" + first + "/erase-certificates").then().statusCode(200).extract().asString();
            assertEquals(0, verify(list, "--key", old).code());
            assertEquals(0, verify(list, "--key", fresh).code());
            as("viewer").queryParam("action", "audit.key-rotated").get("/api/audit").then().statusCode(200)
                    .body("items.payload.newFingerprint", org.hamcrest.Matchers.hasItem(fresh));
            operator().accept("text/html").get("/api/machines/" + first + "/erase-certificates/" + before).then().statusCode(200)
                    .body(containsString(old));
        }
    }

    private static String withoutHistory(String json) throws Exception {
        ObjectNode c = (ObjectNode) JSON.readTree(json);
        c.remove("keyHistory");
        return JSON.writeValueAsString(c);
    }
}
