package io.metalgate.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** StaticRedfish serves the DMTF mockups over HTTPS as a BMC would: open service root, Basic or session login. */
class StaticRedfishTest {

    private StaticRedfish redfish;
    private HttpClient http;

    @AfterEach
    void stop() {
        if (redfish != null) {
            redfish.close();
        }
    }

    private void start(String mockup) {
        redfish = StaticRedfish.start(StaticRedfish.fixture(mockup));
        http = HttpClient.newBuilder().sslContext(redfish.clientSslContext()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(redfish.baseUri() + path)).timeout(Duration.ofSeconds(10))
                .header("Accept", "application/json").header("OData-Version", "4.0")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String basic(String password) {
        return "Basic " + Base64.getEncoder().encodeToString((redfish.username() + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"public-rackmount1", "public-tower", "public-bladed", "public-smartnic", "public-nvmeof-jbof",
            "public-cxl"})
    void servesTheServiceRootAndEverySystemOfEachFixture(String mockup) throws Exception {
        start(mockup);
        Path dir = StaticRedfish.fixture(mockup);
        // the service root is open, byte for byte the mockup's, with or without the trailing slash
        for (String root : new String[] {"/redfish/v1", "/redfish/v1/"}) {
            HttpResponse<String> r = send("GET", root, null);
            assertEquals(200, r.statusCode(), root);
            assertEquals(Files.readString(dir.resolve("index.json")), r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            assertEquals("4.0", r.headers().firstValue("OData-Version").orElse(null));
        }
        assertEquals("/redfish/v1/", new JsonObject(send("GET", "/redfish", null).body()).getString("v1"));
        // the systems collection and each member, with Basic credentials
        String auth = basic(redfish.password());
        HttpResponse<String> systems = send("GET", "/redfish/v1/Systems/", null, "Authorization", auth);
        assertEquals(200, systems.statusCode());
        var members = new JsonObject(systems.body()).getJsonArray("Members");
        assertFalse(members.isEmpty());
        for (Object m : members) {
            String id = ((JsonObject) m).getString("@odata.id");
            HttpResponse<String> system = send("GET", id, null, "Authorization", auth);
            assertEquals(200, system.statusCode(), id);
            assertEquals(id, new JsonObject(system.body()).getString("@odata.id"));
            assertEquals(Files.readString(dir.resolve(id.substring("/redfish/v1/".length())).resolve("index.json")), system.body());
        }
    }

    @Test
    void refusesAWrongPasswordAndNoCredentials() throws Exception {
        start("public-rackmount1");
        HttpResponse<String> wrong = send("GET", "/redfish/v1/Systems", null, "Authorization", basic("not-the-password"));
        assertEquals(401, wrong.statusCode());
        assertEquals("Base.1.8.NoValidSession", new JsonObject(wrong.body()).getJsonObject("error").getString("code"));
        assertTrue(wrong.headers().firstValue("WWW-Authenticate").isPresent());
        assertEquals(401, send("GET", "/redfish/v1/Systems", null).statusCode());
        assertEquals(401, send("GET", "/redfish/v1/Systems", null, "X-Auth-Token", "made-up").statusCode());
        HttpResponse<String> login = send("POST", "/redfish/v1/SessionService/Sessions",
                new JsonObject().put("UserName", redfish.username()).put("Password", "not-the-password").encode());
        assertEquals(401, login.statusCode());
        assertTrue(login.headers().firstValue("X-Auth-Token").isEmpty());
        assertEquals(0, redfish.sessionsCreated());
    }

    @Test
    void createsServesAndDeletesSessionsAndCountsThem() throws Exception {
        start("public-tower");
        String login = new JsonObject().put("UserName", redfish.username()).put("Password", redfish.password()).encode();
        HttpResponse<String> created = send("POST", "/redfish/v1/SessionService/Sessions", login);
        assertEquals(201, created.statusCode());
        String token = created.headers().firstValue("X-Auth-Token").orElse(null);
        String location = created.headers().firstValue("Location").orElse(null);
        assertNotNull(token);
        assertNotNull(location);
        assertTrue(location.startsWith("/redfish/v1/SessionService/Sessions/"), location);
        assertEquals(location, new JsonObject(created.body()).getString("@odata.id"));
        assertEquals(1, redfish.sessionsCreated());
        assertEquals(1, redfish.openSessions());

        // the token authenticates; the session is served and listed
        assertEquals(200, send("GET", "/redfish/v1/Systems/437XR1238R2", null, "X-Auth-Token", token).statusCode());
        HttpResponse<String> session = send("GET", location, null, "X-Auth-Token", token);
        assertEquals(200, session.statusCode());
        assertEquals(redfish.username(), new JsonObject(session.body()).getString("UserName"));
        String list = send("GET", "/redfish/v1/SessionService/Sessions", null, "X-Auth-Token", token).body();
        assertTrue(list.contains(location), list);

        // a second login, then both logged out
        HttpResponse<String> second = send("POST", "/redfish/v1/SessionService/Sessions/", login);
        assertEquals(201, second.statusCode());
        assertEquals(2, redfish.openSessions());
        assertEquals(204, send("DELETE", location, null, "X-Auth-Token", token).statusCode());
        assertEquals(401, send("GET", "/redfish/v1/Systems", null, "X-Auth-Token", token).statusCode(), "a deleted session's token");
        String secondLocation = second.headers().firstValue("Location").orElseThrow();
        assertEquals(204, send("DELETE", secondLocation, null, "Authorization", basic(redfish.password())).statusCode());
        assertEquals(404, send("DELETE", secondLocation, null, "Authorization", basic(redfish.password())).statusCode());
        assertEquals(2, redfish.sessionsCreated());
        assertEquals(2, redfish.sessionsDeleted());
        assertEquals(0, redfish.openSessions());
    }

    @Test
    void answersMissingResourcesWithARedfishErrorAndNeverLeavesTheMockup() throws Exception {
        start("public-smartnic");
        String auth = basic(redfish.password());
        // linked by the host system, but not in the mockup: a dangling link, as real BMCs have
        HttpResponse<String> missing = send("GET", "/redfish/v1/Systems/437XR1138R2/Processors", null, "Authorization", auth);
        assertEquals(404, missing.statusCode());
        JsonObject error = new JsonObject(missing.body()).getJsonObject("error");
        assertEquals("Base.1.8.ResourceMissingAtURI", error.getString("code"));
        assertFalse(error.getJsonArray("@Message.ExtendedInfo").isEmpty());
        assertEquals(404, send("GET", "/redfish/v1/Systems/../../../../etc/passwd", null, "Authorization", auth).statusCode());
        assertEquals(404, send("GET", "/redfish/v1/Systems/%2e%2e/%2e%2e/expected.json", null, "Authorization", auth).statusCode());
        assertEquals(404, send("GET", "/elsewhere", null, "Authorization", auth).statusCode());
        // the query is ignored; static resources cannot be changed
        assertEquals(200, send("GET", "/redfish/v1/Chassis?$expand=.($levels=1)", null, "Authorization", auth).statusCode());
        assertEquals(405, send("PATCH", "/redfish/v1/Systems/Card1-SoC", "{}", "Authorization", auth).statusCode());
        assertEquals(405, send("DELETE", "/redfish/v1/Systems/Card1-SoC", null, "Authorization", auth).statusCode());
        assertTrue(redfish.requests().stream().anyMatch(r -> r.status() == 405 && r.method().equals("PATCH")));
    }

    @Test
    void presentsACertificateToPin() throws Exception {
        start("public-bladed");
        assertEquals(64, redfish.certificateSha256().length());
        // a client that does not trust it cannot connect
        HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        boolean refused;
        try {
            untrusting.send(HttpRequest.newBuilder(URI.create(redfish.baseUri() + "/redfish/v1")).build(), HttpResponse.BodyHandlers.ofString());
            refused = false;
        } catch (javax.net.ssl.SSLException e) {
            refused = true;
        }
        assertTrue(refused);
    }
}
