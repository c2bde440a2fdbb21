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
import java.util.Optional;
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
        AuditVerifier.Result result = new AuditVerifier(Optional.empty()).verify(new StringReader(export));
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
