package io.metalgate.evidence;

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
        String fingerprint = as("viewer").get("/api/audit/key").then().statusCode(200)
                .body("pinnedFile", org.hamcrest.Matchers.equalTo(pinned.toString()))
                .body("history[0].fromSeq", org.hamcrest.Matchers.equalTo(1))
                .extract().path("fingerprint");
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
        String fingerprint = as("viewer").get("/api/audit/key").then().statusCode(200).extract().path("fingerprint");
        String export = as("legal").get("/api/audit/export").then().statusCode(200).extract().asString();
        assertTrue(export.lines().findFirst().orElseThrow().contains(fingerprint));
        as("viewer").queryParam("action", "audit.exported").queryParam("actor", "test-legal").get("/api/audit")
                .then().statusCode(200).body("items.size()", org.hamcrest.Matchers.greaterThanOrEqualTo(1));
        as("operator").get("/api/audit/export").then().statusCode(403);
    }
}
