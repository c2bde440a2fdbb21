package io.metalgate.evidence;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.appliance.EmbeddedPostgres;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.io.StringReader;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class AuditChainTest {

    @Inject
    AuditLog audit;

    @Test
    void concurrentAppendsFromManyWritersNeverForkOrBreakTheChain() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(24);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int w = 0; w < 16; w++) {
                int writer = w;
                done.add(pool.submit((Callable<Void>) () -> {
                    for (int i = 0; i < 40; i++) {
                        int n = i;
                        try {
                            VertxContextSupport.subscribeAndAwait(() -> audit.append("writer-" + writer, "test.appended",
                                    "test:chain", Map.of("writer", writer, "i", n)));
                        } catch (Throwable t) {
                            throw new IllegalStateException(t);
                        }
                    }
                    return null;
                }));
            }
            for (int r = 0; r < 8; r++) { // and API writes at the same time
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 5; i++) {
                        operator().body(enrollment(unique("conc"), "pw")).post("/api/machines").then().statusCode(201);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long writes = 0;
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT seq, time, actor, action, subject, payload, prev_hash, hash FROM audit_entry ORDER BY seq")) {
            long expectSeq = 1;
            String prev = AuditHashes.GENESIS;
            while (rs.next()) {
                assertEquals(expectSeq, rs.getLong("seq"), "sequence has a gap");
                assertEquals(prev, rs.getString("prev_hash"), "chain forks at seq " + expectSeq);
                String time = AuditHashes.formatTime(rs.getObject("time", java.time.OffsetDateTime.class).toInstant());
                String hash = AuditHashes.entryHash(expectSeq, time, rs.getString("actor"), rs.getString("action"),
                        rs.getString("subject"), rs.getString("payload"), prev);
                assertEquals(hash, rs.getString("hash"), "hash of seq " + expectSeq);
                if ("test.appended".equals(rs.getString("action"))) {
                    writes++;
                }
                prev = hash;
                expectSeq++;
            }
        }
        assertEquals(16 * 40, writes);
        // checkpoints were signed along the way (every 50 entries in tests)
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT count(*) FROM audit_checkpoint")) {
            rs.next();
            assertTrue(rs.getLong(1) >= 12, "checkpoints: " + rs.getLong(1));
        }
        // and the whole log exports and verifies offline
        String export = as("legal").get("/api/audit/export").then().statusCode(200).contentType("application/x-ndjson")
                .extract().asString();
        AuditVerifier.Result result = new AuditVerifier(AuditVerifier.Trust.keys(pinnedFingerprint())).verify(new StringReader(export));
        assertTrue(result.ok(), result.message());
        assertTrue(result.checkpoints() >= 12);
    }

    @Test
    void theApplicationRoleCannotAlterTheLogAndNeitherCanTheOwnerWithoutDdl() throws Exception {
        operator().body(enrollment(unique("ro"), "pw")).post("/api/machines").then().statusCode(201);
        String appPassword = Files.readString(PostgresTestResource.dataDir().resolve("db-app.password")).strip();
        String url = "jdbc:postgresql://127.0.0.1:" + PostgresTestResource.postgres().port() + "/" + EmbeddedPostgres.DATABASE;
        try (Connection app = DriverManager.getConnection(url, EmbeddedPostgres.APP_ROLE, appPassword)) {
            for (String sql : List.of("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_entry WHERE seq = 1",
                    "TRUNCATE audit_entry", "UPDATE audit_checkpoint SET signature = 'x'", "DELETE FROM audit_checkpoint")) {
                SQLException e = assertThrows(SQLException.class, () -> app.createStatement().execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
            }
        }
        try (Connection owner = PostgresTestResource.postgres().ownerConnection()) {
            for (String sql : List.of("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_entry WHERE seq = 1",
                    "TRUNCATE audit_entry CASCADE")) {
                SQLException e = assertThrows(SQLException.class, () -> owner.createStatement().execute(sql), sql);
                assertTrue(e.getMessage().contains("append-only"), e.getMessage());
            }
        }
    }

    private static Connection appConnection() throws Exception {
        String appPassword = Files.readString(PostgresTestResource.dataDir().resolve("db-app.password")).strip();
        String url = "jdbc:postgresql://127.0.0.1:" + PostgresTestResource.postgres().port() + "/" + EmbeddedPostgres.DATABASE;
        return DriverManager.getConnection(url, EmbeddedPostgres.APP_ROLE, appPassword);
    }

    /**
     * Whoever holds the app's database login (the red team's insider) can neither make the appliance stop
     * signing, nor sign with another key, nor break every later export: each attempt is refused or chained
     * as what it is.
     */
    @Test
    void theAppLoginCannotSilenceTheSignerOrBreakExports() throws Exception {
        operator().body(enrollment(unique("app"), "pw")).post("/api/machines").then().statusCode(201);
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        try (Connection app = appConnection()) {
            for (String sql : List.of(
                    // a key of one's own registered as current: signing would stop (or move to another token key)
                    "INSERT INTO audit_key VALUES (repeat('f', 64), 'x', 9223372036854775807, now())",
                    // the head jumps: the next entry would skip a thousand sequence numbers
                    "UPDATE audit_head SET seq = seq + 1000",
                    "UPDATE audit_head SET seq = seq - 1, hash = (SELECT hash FROM audit_entry WHERE seq = (SELECT seq - 1 FROM audit_head))",
                    // a checkpoint that names no entry of the chain
                    "INSERT INTO audit_checkpoint VALUES (1, repeat('0', 64), now(), repeat('0', 64), 'x')",
                    "INSERT INTO audit_checkpoint SELECT seq + 5, hash, now(), repeat('0', 64), 'x' FROM audit_head")) {
                SQLException e = assertThrows(SQLException.class, () -> app.createStatement().execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
            }
            // a witness delivery cannot be marked delivered without a receipt, changed or deleted
            try (var st = app.createStatement()) {
                st.execute("INSERT INTO witness_delivery (checkpoint_seq, witness, head, status, next_attempt_at) "
                        + "VALUES (1, 'FILE', 'test-head-" + unique("h") + "', 'PENDING', now())");
            }
            for (String sql : List.of("UPDATE witness_delivery SET status = 'DELIVERED' WHERE head LIKE 'test-head-%'",
                    "UPDATE witness_delivery SET head = 'other' WHERE head LIKE 'test-head-%'",
                    "DELETE FROM witness_delivery WHERE head LIKE 'test-head-%'")) {
                SQLException e = assertThrows(SQLException.class, () -> app.createStatement().execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
            }
            // a hand-over slipped into the queue is chained as a rejected forgery, so exports stay verifiable
            try (var st = app.createStatement()) {
                st.execute("INSERT INTO audit_pending (occurred_at, actor, action, subject, payload) "
                        + "VALUES (now(), 'admin', 'audit.key-rotated', 'audit:key', '{}')");
            }
        }
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        as("viewer").queryParam("action", "audit.forged-entry-rejected").get("/api/audit").then().statusCode(200)
                .body("items[-1].payload.claimedAction", org.hamcrest.Matchers.equalTo("audit.key-rotated"));
        String export = as("legal").get("/api/audit/export").then().statusCode(200).extract().asString();
        AuditVerifier.Result result = new AuditVerifier(AuditVerifier.Trust.keys(pinnedFingerprint()))
                .verify(new StringReader(export));
        assertTrue(result.ok(), result.message());
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void aCheckpointRowTheLogsKeysDidNotSignIsLeftOutOfExportsAndRaisesTheAlarm() throws Exception {
        operator().body(enrollment(unique("junk"), "pw")).post("/api/machines").then().statusCode(201);
        long seq;
        try (Connection app = appConnection(); var st = app.createStatement()) {
            // the head's own entry and hash, but a signature nobody's key made
            var rs = st.executeQuery("SELECT seq FROM audit_head");
            rs.next();
            seq = rs.getLong(1);
            st.execute("INSERT INTO audit_checkpoint SELECT seq, hash, now(), repeat('0', 64), 'AAAA' FROM audit_head");
        }
        try {
            String export = as("legal").get("/api/audit/export").then().statusCode(200).extract().asString();
            AuditVerifier.Result result = new AuditVerifier(AuditVerifier.Trust.keys(pinnedFingerprint()))
                    .verify(new StringReader(export));
            assertTrue(result.ok(), result.message());
            assertTrue(export.lines().noneMatch(l -> l.contains("\"signature\":\"AAAA\"")), "the forged checkpoint is left out");
            io.restassured.RestAssured.get("/q/health/ready").then().statusCode(503)
                    .body("checks.find { it.name == 'audit-chain' }.data.regression",
                            org.hamcrest.Matchers.containsString("checkpoint row at seq " + seq + " is not signed"));
        } finally {
            admin().contentType("application/json").body(Map.of("reason", "test: forged checkpoint row seen"))
                    .post("/api/audit/integrity/acknowledgements").then().statusCode(204);
        }
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void twoRotationsAtOnceHandOverOnceAndTheOtherIsRefused() throws Exception {
        // in this shared appliance the rotation is undone by nothing: the export still verifies from the pinned key
        var pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                calls.add(pool.submit(() -> admin().contentType("application/json").body(Map.of("reason", "double click"))
                        .post("/api/audit/key/rotations").then().extract().statusCode()));
            }
            List<Integer> codes = new ArrayList<>();
            for (Future<Integer> f : calls) {
                codes.add(f.get());
            }
            codes.sort(null);
            assertTrue(codes.equals(List.of(200, 409)) || codes.equals(List.of(200, 200)), codes.toString());
        } finally {
            pool.shutdown();
        }
        admin().post("/api/audit/checkpoints").then().statusCode(204);
        String export = as("legal").get("/api/audit/export").then().statusCode(200).extract().asString();
        AuditVerifier.Result result = new AuditVerifier(AuditVerifier.Trust.keys(pinnedFingerprint()))
                .verify(new StringReader(export));
        assertTrue(result.ok(), result.message());
        String current = as("viewer").get("/api/audit/key").then().extract().path("fingerprint");
        assertEquals(current, result.keys().get(result.keys().size() - 1).fingerprint());
        io.restassured.RestAssured.get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void listFiltersBySubjectActorActionAndTime() {
        String name = unique("flt");
        String before = java.time.Instant.now().minusSeconds(1).toString();
        String id = operator().body(enrollment(name, "pw")).post("/api/machines").then().statusCode(201).extract().path("id");
        String after = java.time.Instant.now().plusSeconds(1).toString();
        as("viewer").queryParam("subject", "machine:" + id).queryParam("actor", "test-operator")
                .queryParam("from", before).queryParam("to", after).get("/api/audit")
                .then().statusCode(200).body("items.action", org.hamcrest.Matchers.contains("machine.enrolled"));
        as("viewer").queryParam("subject", "machine:" + id).queryParam("from", after).get("/api/audit")
                .then().statusCode(200).body("items.size()", org.hamcrest.Matchers.equalTo(0));
        as("viewer").queryParam("subject", "machine:" + id).queryParam("actor", "someone-else").get("/api/audit")
                .then().statusCode(200).body("items.size()", org.hamcrest.Matchers.equalTo(0));
        as("viewer").queryParam("from", "yesterday").get("/api/audit").then().statusCode(400)
                .contentType("application/problem+json").body("errors[0].field", org.hamcrest.Matchers.equalTo("from"));
        as("viewer").queryParam("limit", 0).get("/api/audit").then().statusCode(400);
    }

    /** The key the appliance pinned at install time, as an auditor would have copied it. */
    static String pinnedFingerprint() throws java.io.IOException {
        return AuditCli.keyFingerprint(PostgresTestResource.dataDir().resolve("audit-public-key.pem").toString());
    }

    @Test
    void theKeyIsPinnedAtInstallTimeAndVerificationTrustsOnlyAnAnchor() throws Exception {
        java.nio.file.Path pinned = PostgresTestResource.dataDir().resolve("audit-public-key.pem");
        assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(pinned)));
        // the install-time key is the first of the history (other tests here may have rotated since)
        String fingerprint = as("viewer").get("/api/audit/key").then().statusCode(200)
                .body("pinnedFile", org.hamcrest.Matchers.equalTo(pinned.toString()))
                .body("history[0].fromSeq", org.hamcrest.Matchers.equalTo(1))
                .extract().path("history[0].fingerprint");
        assertEquals(fingerprint, pinnedFingerprint());
        java.nio.file.Path export = Files.createTempFile("audit", ".jsonl");
        Files.writeString(export, as("legal").get("/api/audit/export").then().statusCode(200).extract().asString());
        Map<String, String> noDataDir = Map.of("METALGATE_DATA_DIR", "/nonexistent");
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        // nothing to trust: exit 3, not "tampered"
        assertEquals(AuditCli.UNTRUSTED, AuditCli.run(new String[] {"audit", "verify", export.toString()},
                new java.io.PrintStream(out), new java.io.PrintStream(err), noDataDir), err.toString());
        assertTrue(err.toString().contains("key not trusted: pass --key"), err.toString());
        // the pinned key of the data directory, the published fingerprint, or the PEM file: exit 0
        for (String[] anchor : List.of(new String[] {"--data-dir", PostgresTestResource.dataDir().toString()},
                new String[] {"--key", fingerprint}, new String[] {"--key", pinned.toString()})) {
            err.reset();
            String[] args = {"audit", "verify", export.toString(), anchor[0], anchor[1]};
            assertEquals(AuditCli.OK, AuditCli.run(args, new java.io.PrintStream(out), new java.io.PrintStream(err), noDataDir),
                    String.join(" ", anchor) + ": " + err);
        }
        // explicit trust of the file's own key works, and says what it is
        err.reset();
        assertEquals(AuditCli.OK, AuditCli.run(new String[] {"audit", "verify", export.toString(), "--trust-file-key"},
                new java.io.PrintStream(out), new java.io.PrintStream(err), noDataDir));
        assertTrue(err.toString().contains("WARNING: --trust-file-key"), err.toString());
        assertEquals(AuditCli.USAGE, AuditCli.run(new String[] {"audit", "verify", export.toString(), "--key", "nope"},
                new java.io.PrintStream(out), new java.io.PrintStream(err), noDataDir));
    }

    @Test
    void aQuietLogIsCheckpointedByTimeNotOnlyByCount() throws Exception {
        // one entry, not at a multiple of checkpoint-every (50 in tests): only the interval (2 s in tests) anchors it
        long head;
        do {
            operator().body(enrollment(unique("quiet"), "pw")).post("/api/machines").then().statusCode(201);
            head = headSeq();
        } while (head % 50 == 0);
        long target = head;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        long checkpointed = 0;
        while (System.nanoTime() < deadline) {
            try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                    var rs = st.executeQuery("SELECT coalesce(max(seq), 0) FROM audit_checkpoint")) {
                rs.next();
                checkpointed = rs.getLong(1);
            }
            if (checkpointed >= target) {
                break;
            }
            Thread.sleep(200);
        }
        assertTrue(checkpointed >= target, "no checkpoint reached seq " + target + " (newest: " + checkpointed + ")");
    }

    private static long headSeq() throws SQLException {
        try (Connection c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT seq FROM audit_head")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void exportIsForLegalAndAuditedAndTheKeyIsPublished() {
        // the header carries the log's first key
        String fingerprint = as("viewer").get("/api/audit/key").then().statusCode(200).extract().path("history[0].fingerprint");
        String export = as("legal").get("/api/audit/export").then().statusCode(200).extract().asString();
        assertTrue(export.lines().findFirst().orElseThrow().contains(fingerprint));
        as("viewer").queryParam("action", "audit.exported").queryParam("actor", "test-legal").get("/api/audit")
                .then().statusCode(200).body("items.size()", org.hamcrest.Matchers.greaterThanOrEqualTo(1));
        as("operator").get("/api/audit/export").then().statusCode(403);
    }
}
