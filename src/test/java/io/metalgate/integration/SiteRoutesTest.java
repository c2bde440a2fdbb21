package io.metalgate.integration;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.metalgate.testing.PostgresTestResource.sqlValue;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Site routes in YAML DSL from the configured directory: the documented example (docs/examples/integrations/
 * billing-poll.yaml, copied as it is) polls a billing feed (a JDK HTTP server here) and its events are applied
 * through the intake; a file that does not load makes readiness DOWN, naming it; what was loaded is audited with its
 * SHA-256; Camel's route health and counters are in /q/health and /q/metrics.
 */
@QuarkusTest
@TestProfile(SiteRoutesTest.Profile.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class SiteRoutesTest {

    static final Path EXAMPLE = Path.of("docs/examples/integrations/billing-poll.yaml");
    // shared through files: the profile (which starts the feed) and the test run in different class loaders
    static final Path FEED = Path.of("target", "site-routes-feed.json").toAbsolutePath();
    static final Path POLLS = Path.of("target", "site-routes-polls.txt").toAbsolutePath();
    static final Path AUTHORIZATION = Path.of("target", "site-routes-authorization.txt").toAbsolutePath();

    static int polls() throws java.io.IOException {
        return Files.exists(POLLS) ? Files.readAllLines(POLLS).size() : 0;
    }

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "site-routes-");
                Files.copy(EXAMPLE, dir.resolve("10-billing-poll.yaml"));
                Files.writeString(dir.resolve("20-broken.yaml"), "- route:\n    from:\n      uri: nosuchcomponent:x\n      steps:\n        - log: never\n");
                Files.writeString(dir.resolve("README.txt"), "not a route: ignored");
                HttpServer feed = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
                Files.writeString(FEED, "[]");
                Files.deleteIfExists(POLLS);
                feed.createContext("/events", ex -> {
                    Files.writeString(POLLS, "poll\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                    Files.writeString(AUTHORIZATION, String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
                    byte[] body = Files.readAllBytes(FEED);
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.sendResponseHeaders(200, body.length);
                    ex.getResponseBody().write(body);
                    ex.close();
                });
                feed.start();
                return Map.of("metalgate.integrations.dir", dir.toString(), "site.billing.events-url", "http://127.0.0.1:" + feed.getAddress()
                        .getPort() + "/events", "site.billing.token", "feed-token", "site.billing.poll-period", "300", "site.billing.poll-delay", "0");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void theDocumentedExampleFeedsTheIntakeAndABrokenFileIsNamed() throws Exception {
        String tenant = operator().body(Map.of("name", unique("t"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        String ref = unique("site");
        operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        Files.writeString(FEED, "[{\"source\":\"billing\",\"externalId\":\"" + ref + "-1\",\"type\":\"ACTIVATED\",\"leaseRef\":\"" + ref + "\"},"
                + "{\"source\":\"billing\",\"externalId\":\"" + ref + "-2\",\"type\":\"PAYMENT_OVERDUE\",\"leaseRef\":\"" + ref + "\"}]");
        Instant until = Instant.now().plus(Duration.ofSeconds(60));
        while (!"OVERDUE".equals(sqlValue("SELECT state FROM lease WHERE external_ref = ?", ref))) {
            if (Instant.now().isAfter(until)) {
                throw new AssertionError("the polled events were not applied; polls: " + polls());
            }
            Thread.sleep(100);
        }
        int polls = polls();
        Thread.sleep(1000);
        // polled again and again: the same events are repeats, applied once
        assertEquals(true, polls() > polls);
        assertEquals("2", sqlValue("SELECT count(*) FROM state_transition t JOIN lease l ON l.id = t.subject_id WHERE l.external_ref = ?", ref));
        assertEquals("site-billing-poll", sqlValue("SELECT actor FROM state_transition t JOIN lease l ON l.id = t.subject_id "
                + "WHERE l.external_ref = ? AND event = 'ACTIVATED'", ref));
        assertEquals("Bearer feed-token", Files.readString(AUTHORIZATION));

        given().get("/q/health/ready").then().statusCode(503).body("checks.name", hasItem("site-routes"))
                .body("checks.find { it.name == 'site-routes' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == 'site-routes' }.data.'20-broken.yaml'", containsString("FAILED"));
        String sha = AuditHashes.sha256Hex(Files.readString(EXAMPLE));
        admin().queryParam("action", "integration.site-routes-loaded").get("/api/audit").then().statusCode(200)
                .body("items[0].payload.loaded.'10-billing-poll.yaml'", equalTo(sha))
                .body("items[0].payload.failed.'20-broken.yaml'", containsString("nosuchcomponent"));
        io.metalgate.testing.Api.as("viewer").get("/q/metrics").then().statusCode(200).body(containsString("routeId=\"site-billing-poll\""))
                .body(containsString("routeId=\"lease-event-intake\""));
    }
}
