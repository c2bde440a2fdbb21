package io.metalgate.evidence;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.testing.PostgresTestResource;
import io.metalgate.testing.WitnessPeers;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Witnessed audit heads against real peers (a directory, an HTTP receiver, an SMTP server, an RFC 3161 TSA):
 * every signed checkpoint reaches every witness with a receipt, an export verifies against each witness's
 * copy, key hand-overs are followed, and the database owner who cuts the log's tail in replica mode (which
 * no trigger stops, and which the signing key alone cannot reveal) is caught by the witnesses.
 */
@QuarkusTest
@TestProfile(AuditWitnessTest.Witnessed.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditWitnessTest {

    public static class Witnessed implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(WitnessPeers.class));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<AuditWitnesses.Kind> ALL = List.of(AuditWitnesses.Kind.values());

    record Cli(int code, String out) {
    }

    private static Cli cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = AuditCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8), Map.of("METALGATE_DATA_DIR", "/nonexistent"));
        return new Cli(code, out.toString(StandardCharsets.UTF_8));
    }

    private static Path export() throws Exception {
        Path file = Files.createTempFile(WitnessPeers.dir(), "export", ".jsonl");
        Files.writeString(file, as("legal").get("/api/audit/export").then().statusCode(200).extract().asString());
        return file;
    }

    /** Some activity, then a checkpoint at the head; returns its seq once every witness has it. */
    private static long witnessedCheckpoint() throws Exception {
        operator().body(enrollment(unique("wit"), "pw")).post("/api/machines").then().statusCode(201);
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        long seq = scalar("SELECT max(seq) FROM audit_checkpoint");
        awaitDelivered(seq);
        return seq;
    }

    private static void awaitDelivered(long seq) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> delivered = List.of();
        while (System.nanoTime() < deadline) {
            delivered = new ArrayList<>();
            for (var d : as("legal").queryParam("limit", 1000).get("/api/audit/witnesses").then().statusCode(200).extract()
                    .jsonPath().getList("", Map.class)) {
                if (((Number) d.get("checkpointSeq")).longValue() == seq && "DELIVERED".equals(d.get("status"))) {
                    delivered.add((String) d.get("witness"));
                }
            }
            if (delivered.size() == ALL.size()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("checkpoint " + seq + " delivered only to " + delivered);
    }

    private static long scalar(String sql) throws SQLException {
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Map<String, JsonNode> receipts(long seq) throws Exception {
        Map<String, JsonNode> out = new java.util.HashMap<>();
        for (var d : as("legal").queryParam("limit", 1000).get("/api/audit/witnesses").then().extract().jsonPath()
                .getList("", Map.class)) {
            if (((Number) d.get("checkpointSeq")).longValue() == seq) {
                out.put((String) d.get("witness"), JSON.readTree((String) d.get("receipt")));
            }
        }
        return out;
    }

    /** The webhook's deliveries, as its owner would keep them: one head per line. */
    private static Path webhookCopy() throws Exception {
        Path f = WitnessPeers.dir().resolve("webhook-heads.jsonl");
        Files.writeString(f, String.join("\n", WitnessPeers.webhookReceived().stream().map(WitnessPeers.Received::body).toList())
                + "\n");
        return f;
    }

    /** The auditor's mailbox saved as text: every message's body. */
    private static Path mailCopy() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (MimeMessage m : WitnessPeers.mail().getReceivedMessages()) {
            sb.append("Message-ID: ").append(m.getMessageID()).append('\n').append(m.getContent()).append("\n\n");
        }
        Path f = WitnessPeers.dir().resolve("mailbox.txt");
        Files.writeString(f, sb.toString());
        return f;
    }

    private static String pinned() {
        return PostgresTestResource.dataDir().resolve("audit-public-key.pem").toString();
    }

    @Test
    @Order(1)
    void everySignedHeadReachesEveryWitnessWithItsReceipt() throws Exception {
        long seq = witnessedCheckpoint();
        Map<String, JsonNode> receipts = receipts(seq);
        String head = Files.readAllLines(WitnessPeers.dir().resolve("heads.jsonl")).stream()
                .filter(l -> l.contains("\"seq\":" + seq + ",")).findFirst().orElseThrow();
        assertEquals(AuditHashes.sha256Hex(head), receipts.get("FILE").path("lineSha256").asText());
        // webhook: the same bytes, signed with the shared secret over "t.body"
        WitnessPeers.Received hook = WitnessPeers.webhookReceived().stream().filter(r -> r.body().equals(head)).findFirst()
                .orElseThrow(() -> new AssertionError("the webhook did not receive " + head));
        String t = hook.signature().split(",")[0].substring(2);
        assertEquals("t=" + t + ",v1=" + WitnessRoutes.hmac(WitnessPeers.WEBHOOK_SECRET, t + "." + head), hook.signature());
        assertEquals(200, receipts.get("WEBHOOK").path("status").asInt());
        // e-mail: the auditor's server has a message with the Message-ID that is the receipt, quoting the head
        String messageId = receipts.get("EMAIL").path("messageId").asText();
        MimeMessage mail = java.util.Arrays.stream(WitnessPeers.mail().getReceivedMessages())
                .filter(m -> {
                    try {
                        return messageId.equals(m.getMessageID());
                    } catch (jakarta.mail.MessagingException e) {
                        return false;
                    }
                }).findFirst().orElseThrow(() -> new AssertionError("no message " + messageId));
        assertEquals(WitnessPeers.AUDITOR, mail.getAllRecipients()[0].toString());
        assertTrue(mail.getContent().toString().contains(head), mail.getContent().toString());
        // TSA: a token over the head's exact bytes, from the pinned TSA
        byte[] token = java.util.Base64.getDecoder().decode(receipts.get("TSA").path("token").asText());
        var verified = io.metalgate.evidence.witness.TimeStampTokens.verify(token, head.getBytes(StandardCharsets.UTF_8),
                List.of(WitnessPeers.tsa().certificate()));
        assertEquals(receipts.get("TSA").path("genTime").asText(), verified.genTime().toString());
    }

    @Test
    @Order(2)
    void anExportVerifiesAgainstEachWitnessAndATsaTokenNeedsATrustedTsa() throws Exception {
        witnessedCheckpoint();
        Path export = export();
        Path tsaTokens = WitnessPeers.dir().resolve("tsa-tokens.jsonl");
        Path tsaFromApi = WitnessPeers.dir().resolve("tsa-from-api.jsonl");
        Files.writeString(tsaFromApi, as("legal").get("/api/audit/witnesses/tsa").then().statusCode(200).extract().asString());
        for (Path witness : List.of(WitnessPeers.dir().resolve("heads.jsonl"), webhookCopy(), mailCopy(), tsaTokens, tsaFromApi)) {
            Cli r = cli("audit", "verify", export.toString(), "--key", pinned(), "--witness", witness.toString(), "--tsa-cert",
                    WitnessPeers.dir().resolve("tsa.pem").toString());
            assertEquals(AuditCli.OK, r.code(), witness + ": " + r.out());
            assertTrue(r.out().contains("heads found in the export"), r.out());
        }
        Cli untrustedTsa = cli("audit", "verify", export.toString(), "--key", pinned(), "--witness", tsaTokens.toString());
        assertEquals(AuditCli.UNTRUSTED, untrustedTsa.code(), untrustedTsa.out());
        assertTrue(untrustedTsa.out().contains("TSA not trusted: pass --tsa-cert"), untrustedTsa.out());
        // a TSA the auditor does not trust: its tokens prove nothing
        try (var other = new io.metalgate.testing.LocalTsa("CN=Other TSA")) {
            Path otherPem = other.writeCertificatePem(WitnessPeers.dir().resolve("other-tsa.pem"));
            Cli wrongTsa = cli("audit", "verify", export.toString(), "--key", pinned(), "--witness", tsaTokens.toString(),
                    "--tsa-cert", otherPem.toString());
            assertEquals(AuditCli.TAMPERED, wrongTsa.code(), wrongTsa.out());
            assertTrue(wrongTsa.out().contains("TSA token does not prove this head"), wrongTsa.out());
        }
    }

    @Test
    @Order(3)
    void aWitnessThatFailsIsRetriedUntilItHasTheHead() throws Exception {
        WitnessPeers.failWebhook(Integer.MAX_VALUE);
        operator().body(enrollment(unique("wit"), "pw")).post("/api/machines").then().statusCode(201);
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        long seq = scalar("SELECT max(seq) FROM audit_checkpoint");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Map<?, ?> webhook = null;
        while (System.nanoTime() < deadline) {
            webhook = webhookDelivery(seq);
            if (webhook != null && ((Number) webhook.get("attempts")).intValue() >= 3) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals("PENDING", webhook.get("status"), webhook.toString());
        assertTrue(((Number) webhook.get("attempts")).intValue() >= 3, webhook.toString());
        assertTrue(String.valueOf(webhook.get("lastError")).contains("503"), webhook.toString());
        WitnessPeers.failWebhook(0);
        awaitDelivered(seq);
        assertEquals(null, webhookDelivery(seq).get("lastError"));
    }

    private static Map<?, ?> webhookDelivery(long seq) {
        return as("legal").queryParam("limit", 1000).get("/api/audit/witnesses").then().extract().jsonPath()
                .getList("", Map.class).stream()
                .filter(d -> ((Number) d.get("checkpointSeq")).longValue() == seq && "WEBHOOK".equals(d.get("witness")))
                .findFirst().orElse(null);
    }

    @Test
    @Order(4)
    void aKeyHandOverIsSignedByBothKeysAndVerificationFollowsIt() throws Exception {
        long before = witnessedCheckpoint();
        String old = as("viewer").get("/api/audit/key").then().statusCode(200).extract().path("fingerprint");
        operator().contentType("application/json").body(Map.of("reason", "x")).post("/api/audit/key/rotations").then()
                .statusCode(403);
        admin().contentType("application/json").body(Map.of("reason", "x", "pkcs11Alias", "y")).post("/api/audit/key/rotations")
                .then().statusCode(400);
        String fresh = admin().contentType("application/json").body(Map.of("reason", "yearly rotation"))
                .post("/api/audit/key/rotations").then().statusCode(200)
                .body("history.size()", org.hamcrest.Matchers.equalTo(2))
                .body("history[0].fingerprint", org.hamcrest.Matchers.equalTo(old))
                .extract().path("fingerprint");
        assertNotEquals(old, fresh);
        // the pinned key stays the install-time key; the key file holds only the new key now
        assertEquals(old, AuditCli.keyFingerprint(pinned()));
        String keyFile = Files.readString(PostgresTestResource.dataDir().resolve("audit-signing.key"));
        assertTrue(keyFile.contains(java.util.Base64.getEncoder().encodeToString(
                SigningKeys.fromPem(as("viewer").get("/api/audit/key").then().extract().path("publicKey")).getEncoded())));
        long after = witnessedCheckpoint();
        assertTrue(after > before);
        Path export = export();
        for (String anchor : List.of(pinned(), old, fresh)) {
            Cli r = cli("audit", "verify", export.toString(), "--key", anchor, "--witness",
                    WitnessPeers.dir().resolve("heads.jsonl").toString());
            assertEquals(AuditCli.OK, r.code(), anchor + ": " + r.out());
            assertTrue(r.out().contains(", then " + fresh + " from seq"), r.out());
        }
        as("viewer").queryParam("action", "audit.key-rotated").get("/api/audit").then().statusCode(200)
                .body("items[0].payload.previousFingerprint", org.hamcrest.Matchers.equalTo(old))
                .body("items[0].payload.newFingerprint", org.hamcrest.Matchers.equalTo(fresh))
                .body("items[0].actor", org.hamcrest.Matchers.equalTo("admin"));
    }

    @Test
    @Order(5)
    void theOwnerCuttingTheTailInReplicaModeIsCaughtByEveryWitness() throws Exception {
        long keep = witnessedCheckpoint();
        for (int i = 0; i < 3; i++) {
            operator().body(enrollment(unique("cut"), "pw")).post("/api/machines").then().statusCode(201);
        }
        long cut = witnessedCheckpoint();
        assertTrue(cut > keep);
        // the database owner (superuser of the cluster) disables the triggers for the session, deletes the newest
        // entries with their checkpoints and deliveries, and rewinds the head: no DDL, key untouched
        try (Connection owner = PostgresTestResource.postgres().ownerConnection(); var st = owner.createStatement()) {
            owner.setAutoCommit(false);
            st.execute("SET session_replication_role = replica");
            // the head's row lock first, as a pass takes it: entries a pass chains meanwhile are then either
            // before the cut (and deleted) or after it — none survives beyond a rewound head (the next test's case)
            st.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE");
            st.execute("DELETE FROM witness_delivery WHERE checkpoint_seq > " + keep);
            st.execute("DELETE FROM audit_checkpoint WHERE seq > " + keep);
            st.execute("DELETE FROM audit_entry WHERE seq > " + keep);
            st.execute("UPDATE audit_head SET seq = " + keep + ", hash = (SELECT hash FROM audit_entry WHERE seq = " + keep + ")");
            owner.commit();
        }
        // the appliance itself notices (it remembers the last head it signed, outside the database): it will not
        // export or sign the shortened chain, and reports it
        as("legal").get("/api/audit/export").then().statusCode(409).contentType("application/problem+json")
                .body("type", org.hamcrest.Matchers.endsWith("audit-chain-regression"))
                .body("detail", org.hamcrest.Matchers.containsString(", signed by this appliance, is gone"));
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'audit-chain' }.status", org.hamcrest.Matchers.equalTo("DOWN"))
                .body("checks.find { it.name == 'audit-chain' }.data.regression",
                        org.hamcrest.Matchers.containsString(", signed by this appliance, is gone"));
        assertEquals(keep, scalar("SELECT max(seq) FROM audit_checkpoint"), "nothing signed on the shortened chain");
        // an admin acknowledges it: the acknowledgement names what was lost, and signing resumes
        operator().contentType("application/json").body(Map.of("reason", "r")).post("/api/audit/integrity/acknowledgements")
                .then().statusCode(403);
        admin().contentType("application/json").body(Map.of("reason", "restored from backup; see ticket 4711"))
                .post("/api/audit/integrity/acknowledgements").then().statusCode(204);
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(200);
        as("viewer").queryParam("action", "audit.regression-acknowledged").get("/api/audit").then().statusCode(200)
                .body("items[0].payload.lastSignedSeq", org.hamcrest.Matchers.greaterThanOrEqualTo((int) cut))
                .body("items[0].payload.reason", org.hamcrest.Matchers.equalTo("restored from backup; see ticket 4711"));
        admin().contentType("application/json").body(Map.of("reason", "again")).post("/api/audit/integrity/acknowledgements")
                .then().statusCode(409);
        Path export = export();
        // with the signing key alone the export verifies (the log itself says what was lost: the acknowledgement)
        Cli keyOnly = cli("audit", "verify", export.toString(), "--key", pinned());
        assertEquals(AuditCli.OK, keyOnly.code(), keyOnly.out());
        assertTrue(Files.readString(export).contains("audit.regression-acknowledged"));
        // and every witness has heads the export lacks or contradicts
        for (Path witness : List.of(WitnessPeers.dir().resolve("heads.jsonl"), webhookCopy(), mailCopy(),
                WitnessPeers.dir().resolve("tsa-tokens.jsonl"))) {
            Cli r = cli("audit", "verify", export.toString(), "--key", pinned(), "--witness", witness.toString(), "--tsa-cert",
                    WitnessPeers.dir().resolve("tsa.pem").toString());
            assertEquals(AuditCli.TAMPERED, r.code(), witness + ": " + r.out());
            assertTrue(r.out().contains("entries were removed") || r.out().contains("rewritten"), r.out());
        }
        // and once the rewound log grows past the cut, the same seqs carry other hashes: a rewritten past
        for (int i = 0; i < 8; i++) {
            operator().body(enrollment(unique("after"), "pw")).post("/api/machines").then().statusCode(201);
        }
        Path later = export();
        Cli rewritten = cli("audit", "verify", later.toString(), "--key", pinned(), "--witness",
                WitnessPeers.dir().resolve("heads.jsonl").toString());
        assertEquals(AuditCli.TAMPERED, rewritten.code(), rewritten.out());
        assertTrue(rewritten.out().contains("the log was rewritten after it was witnessed"), rewritten.out());
    }

    @Test
    @Order(6)
    void aHeadRewoundOverEntriesOrCheckpointsBeyondItStopsSigningWithAnAlarmAndLosesNothing() throws Exception {
        witnessedCheckpoint();
        long head = scalar("SELECT seq FROM audit_head WHERE id = 1");
        // a checkpoint forged beyond the head (the owner with the triggers off): the next checkpoint pass names it
        ownerRuns("INSERT INTO audit_checkpoint (seq, hash, time, key_fingerprint, signature) SELECT " + (head + 1000)
                + ", hash, time, key_fingerprint, signature FROM audit_checkpoint WHERE seq = (SELECT max(seq) FROM audit_checkpoint)");
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'audit-chain' }.data.regression",
                        org.hamcrest.Matchers.containsString("1 checkpoint(s) name entries beyond the head"));
        assertEquals(head + 1000, scalar("SELECT max(seq) FROM audit_checkpoint"), "nothing signed meanwhile");
        ownerRuns("DELETE FROM audit_checkpoint WHERE seq = " + (head + 1000));
        admin().contentType("application/json").body(Map.of("reason", "forged checkpoint removed"))
                .post("/api/audit/integrity/acknowledgements").then().statusCode(204);
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(200);

        // the head rewound by one entry, the entry left in place: nothing can be chained after it (its seq is
        // taken, and the head's guard will not move past it) — every audited request says why, and keeps its entry
        long top = scalar("SELECT seq FROM audit_head WHERE id = 1");
        ownerRuns("UPDATE audit_head SET seq = " + (top - 1) + ", hash = (SELECT hash FROM audit_entry WHERE seq = " + (top - 1)
                + ")");
        String name = unique("stuck");
        operator().body(enrollment(name, "pw")).post("/api/machines").then().statusCode(409)
                .contentType("application/problem+json")
                .body("type", org.hamcrest.Matchers.endsWith("audit-chain-regression"))
                .body("detail", org.hamcrest.Matchers.containsString("entries up to seq " + top + " beyond its head (seq "
                        + (top - 1) + ")"));
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'audit-chain' }.data.regression",
                        org.hamcrest.Matchers.containsString("beyond its head (seq " + (top - 1) + ")"));
        assertEquals(top, scalar("SELECT max(seq) FROM audit_entry"), "nothing chained on the rewound head");
        assertTrue(scalar("SELECT count(*) FROM audit_pending WHERE subject LIKE 'machine:%' AND payload LIKE '%" + name + "%'") > 0,
                "the enrollment's entry waits, not lost");
        // restored (the head put back where the chain ends) and acknowledged: the waiting entry is chained
        ownerRuns("UPDATE audit_head SET seq = " + top + ", hash = (SELECT hash FROM audit_entry WHERE seq = " + top + ")");
        admin().contentType("application/json").body(Map.of("reason", "head restored"))
                .post("/api/audit/integrity/acknowledgements").then().statusCode(204);
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(200);
        assertEquals(0, scalar("SELECT count(*) FROM audit_pending WHERE payload LIKE '%" + name + "%'"));
        assertTrue(scalar("SELECT count(*) FROM audit_entry WHERE seq > " + top + " AND payload LIKE '%" + name + "%'") > 0);
        Cli r = cli("audit", "verify", export().toString(), "--key", pinned());
        assertEquals(AuditCli.OK, r.code(), r.out());
    }

    /** One statement as the database owner with the triggers off, after taking the head's row lock as a pass does. */
    private static void ownerRuns(String sql) throws SQLException {
        try (Connection owner = PostgresTestResource.postgres().ownerConnection(); var st = owner.createStatement()) {
            owner.setAutoCommit(false);
            st.execute("SET session_replication_role = replica");
            st.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE");
            st.execute(sql);
            owner.commit();
        }
    }
}
