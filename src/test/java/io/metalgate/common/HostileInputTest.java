package io.metalgate.common;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A red team's hostile input through HTTP: every create and update endpoint, every string field with a
 * NUL, a control character, a wrong JSON type; every name-like field with bidi overrides, format
 * characters and line breaks; every number, boolean and enum field with a coerced value; duplicate keys;
 * listings with absurd paging; query parameters with a NUL. Each must get 400 problem+json naming the
 * field, and nothing may be stored.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class HostileInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOLE = "\u0001HOSTILE\u0001";

    /** Which checks a string field gets: every string refuses NUL and controls; a name is single-line printable too. */
    enum Kind {
        NAME, TEXT
    }

    record Endpoint(String label, String method, Supplier<String> path, Supplier<RequestSpecification> who,
            Supplier<Map<String, Object>> body, Map<String, Kind> strings, Map<String, String> scalars) {

        @Override
        public String toString() {
            return label;
        }
    }

    record Variant(String label, String json) {

        @Override
        public String toString() {
            return label;
        }
    }

    // ---- fixtures, created once on first use ------------------------------------------------------

    private static String machineId;
    private static String tenantId;

    private static synchronized String machine() {
        if (machineId == null) {
            machineId = operator().body(enrollment(unique("hostile"), "pw")).post("/api/machines").then().statusCode(201)
                    .extract().path("id");
            // enrolment verifies the BMC after answering: let that settle before any snapshot
            io.metalgate.testing.Lifecycle.awaitState(machineId, "VERIFY_FAILED");
        }
        return machineId;
    }

    private static synchronized String tenant() {
        if (tenantId == null) {
            tenantId = operator().body(Map.of("name", unique("hostile"))).post("/api/tenants").then().statusCode(201)
                    .extract().path("id");
        }
        return tenantId;
    }

    private static String randomId() {
        return UUID.randomUUID().toString();
    }

    @SuppressWarnings("unchecked")
    private static <V> Map<String, V> map(Object... kv) {
        Map<String, V> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (V) kv[i + 1]);
        }
        return m;
    }

    static List<Endpoint> endpoints() {
        return List.of(
                new Endpoint("enrol machine", "POST", () -> "/api/machines", () -> operator(),
                        () -> enrollment(unique("h"), "pw"),
                        map("name", Kind.NAME, "rack", Kind.NAME, "location", Kind.NAME, "bmc.host", Kind.NAME,
                                "bmc.username", Kind.NAME, "bmc.password", Kind.TEXT, "bmc.tlsFingerprint", Kind.NAME),
                        Map.of("bmc.port", "int", "bmc.protocol", "enum")),
                new Endpoint("update machine", "PATCH", () -> "/api/machines/" + machine(), () -> operator(),
                        () -> map("rack", "R2", "bmc", map("username", "root")),
                        map("name", Kind.NAME, "rack", Kind.NAME, "location", Kind.NAME, "maintenanceReason", Kind.TEXT,
                                "bmc.host", Kind.NAME, "bmc.username", Kind.NAME, "bmc.password", Kind.TEXT),
                        Map.of("maintenance", "boolean", "bmc.port", "int", "bmc.protocol", "enum")),
                new Endpoint("create tenant", "POST", () -> "/api/tenants", () -> operator(),
                        () -> map("name", unique("t"), "externalRef", unique("x"), "contactEmail", "ops@example.com"),
                        map("name", Kind.NAME, "externalRef", Kind.NAME, "contactEmail", Kind.NAME), Map.of()),
                new Endpoint("update tenant", "PATCH", () -> "/api/tenants/" + tenant(), () -> operator(),
                        () -> map("name", unique("t"), "externalRef", unique("x"), "contactEmail", "ops@example.com"),
                        map("name", Kind.NAME, "externalRef", Kind.NAME, "contactEmail", Kind.NAME), Map.of()),
                new Endpoint("create lease", "POST", () -> "/api/leases", () -> operator(),
                        () -> map("tenantId", tenant(), "externalRef", unique("L")),
                        map("externalRef", Kind.NAME), Map.of("tenantId", "uuid")),
                new Endpoint("lease event", "POST", () -> "/api/leases/" + randomId() + "/events", () -> as("billing"),
                        () -> map("event", "ACTIVATED", "reason", "go"), map("reason", Kind.TEXT), Map.of("event", "enum")),
                new Endpoint("place hold", "POST", () -> "/api/holds", () -> operator(),
                        () -> map("kind", "LEGAL_HOLD", "tenantId", tenant(), "reason", "counsel"),
                        map("reason", Kind.TEXT), Map.of("kind", "enum")),
                new Endpoint("release hold", "POST", () -> "/api/holds/" + randomId() + "/release", () -> operator(),
                        () -> map("reason", "done"), map("reason", Kind.TEXT), Map.of()),
                new Endpoint("notice attempt", "POST", () -> "/api/notices/" + randomId() + "/attempts", () -> operator(),
                        () -> map("channel", "EMAIL", "outcome", "SENT", "proof", "message-id 1"),
                        map("proof", Kind.TEXT), Map.of("channel", "enum")),
                new Endpoint("create user", "POST", () -> "/api/users", () -> admin(),
                        () -> map("username", "h" + UUID.randomUUID().toString().substring(0, 8), "password", "long-enough-password",
                                "roles", List.of("viewer")),
                        map("username", Kind.NAME, "password", Kind.TEXT), Map.of()),
                new Endpoint("set password", "PUT", () -> "/api/users/nobody-" + randomId().substring(0, 8) + "/password",
                        () -> admin(), () -> map("password", "long-enough-password"), map("password", Kind.TEXT), Map.of()),
                new Endpoint("create token", "POST", () -> "/api/tokens", () -> admin(),
                        () -> map("name", unique("tok"), "roles", List.of("viewer"), "expiresInDays", 30),
                        map("name", Kind.NAME), Map.of("expiresInDays", "int")),
                new Endpoint("lease event intake", "POST", () -> "/api/integrations/lease-events", () -> as("billing"),
                        () -> map("source", "billing", "externalId", unique("e"), "type", "ACTIVATED", "leaseRef", unique("L")),
                        map("source", Kind.NAME, "externalId", Kind.NAME, "leaseRef", Kind.NAME), Map.of("type", "enum")),
                new Endpoint("action request", "POST", () -> "/api/machines/" + randomId() + "/action-requests", () -> operator(),
                        () -> map("action", "POWER_OFF", "reason", "maintenance"), map("reason", Kind.TEXT), Map.of("action", "enum")),
                new Endpoint("action", "POST", () -> "/api/machines/" + randomId() + "/actions/power_off", () -> operator(),
                        () -> map("tenantRequested", false, "emergencyReason", "fire"), map("emergencyReason", Kind.TEXT),
                        Map.of("tenantRequested", "boolean")),
                new Endpoint("bulk plan", "POST", () -> "/api/bulk/power_off", () -> operator(),
                        () -> map("selector", map("query", map("name", "x", "rack", "R1")), "reason", "maintenance"),
                        map("selector.query.name", Kind.TEXT, "selector.query.rack", Kind.TEXT, "reason", Kind.TEXT),
                        Map.of("selector.query.maintenance", "boolean")));
    }

    /** Strings every field refuses. */
    private static final Map<String, String> EVERY_STRING = HostileInputTest.<String>map(
            "NUL", "\"a\\u0000b\"", "raw-escaped NUL alone", "\"\\u0000\"", "BEL", "\"a\\u0007b\"", "ESC", "\"a\\u001bb\"",
            "DEL", "\"a\\u007fb\"", "C1 control", "\"a\\u0085b\"", "lone surrogate", "\"a\\ud800b\"", "number", "123", "float", "1.5", "boolean", "true",
            "object", "{}", "array", "[\"a\"]").entrySet().stream()
            .collect(LinkedHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), Map::putAll);

    /** Strings a name-like field refuses besides. */
    private static final Map<String, String> NAME_STRING = HostileInputTest.<String>map(
            "RLO (bidi override)", "\"a\\u202eb\"", "LRE", "\"a\\u202ab\"", "LRI (bidi isolate)", "\"a\\u2066b\"",
            "PDI", "\"a\\u2069b\"", "zero-width space", "\"a\\u200bb\"", "BOM", "\"\\ufeffab\"", "soft hyphen", "\"a\\u00adb\"",
            "line feed", "\"a\\nb\"", "carriage return", "\"a\\rb\"", "tab", "\"a\\tb\"", "line separator", "\"a\\u2028b\"",
            "private use", "\"a\\ue000b\"").entrySet().stream()
            .collect(LinkedHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), Map::putAll);

    private static final Map<String, List<String>> SCALAR = Map.of(
            "int", List.of("\"623\"", "623.5", "true", "\"\""),
            "boolean", List.of("\"true\"", "1", "0", "\"\""),
            "enum", List.of("0", "1", "true"),
            "uuid", List.of("12345", "true"));

    static Stream<Arguments> hostileBodies() {
        List<Arguments> out = new ArrayList<>();
        for (Endpoint e : endpoints()) {
            e.strings().forEach((field, kind) -> {
                EVERY_STRING.forEach((label, json) -> out.add(Arguments.of(e, field, new Variant(label, json))));
                if (kind == Kind.NAME) {
                    NAME_STRING.forEach((label, json) -> out.add(Arguments.of(e, field, new Variant(label, json))));
                }
            });
            e.scalars().forEach((field, type) -> SCALAR.get(type)
                    .forEach(json -> out.add(Arguments.of(e, field, new Variant(type + " as " + json, json)))));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("hostileBodies")
    void hostileFieldIsRefusedNamingItAndNothingIsStored(Endpoint e, String field, Variant v) {
        String body = bodyWith(e.body().get(), field, v.json());
        String path = e.path().get();
        var who = e.who().get(); // the caller first: its user is created the first time it is asked for
        Map<String, Long> before = stored();
        Response r = who.body(body).request(e.method(), path);
        problem(r, field);
        assertEquals(before, stored(), "nothing may be stored for " + body);
    }

    /** A field given twice in the same object: refused, naming the field, whichever value is last. */
    static Stream<Arguments> duplicates() {
        List<Arguments> out = new ArrayList<>();
        for (Endpoint e : endpoints()) {
            for (String field : e.strings().keySet()) {
                out.add(Arguments.of(e, field));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} twice")
    @MethodSource("duplicates")
    void duplicateKeyIsRefusedNamingIt(Endpoint e, String field) {
        String body = bodyWith(e.body().get(), field, "\"first\"");
        String leaf = field.substring(field.lastIndexOf('.') + 1);
        // the same key again, right after the first: {"a": "first", "a": "second", ...}
        body = body.replace("\"" + leaf + "\":\"first\"", "\"" + leaf + "\":\"first\",\"" + leaf + "\":\"second\"");
        Map<String, Long> before = stored();
        problem(e.who().get().body(body).request(e.method(), e.path().get()), field);
        assertEquals(before, stored(), "nothing may be stored for " + body);
    }

    @Test
    void theValidBodiesAreValid() {
        // the hostile variants above differ from these in one field only
        String ok = operator().body(enrollment(unique("ok"), "pw")).post("/api/machines").then().statusCode(201).extract().path("id");
        io.metalgate.testing.Lifecycle.awaitState(ok, "VERIFY_FAILED");
        operator().body(map("rack", "R2", "bmc", map("username", "root"))).patch("/api/machines/" + machine()).then().statusCode(200);
        operator().body(map("name", unique("t"), "externalRef", unique("x"), "contactEmail", "ops@example.com"))
                .post("/api/tenants").then().statusCode(201);
        operator().body(map("tenantId", tenant(), "externalRef", unique("L"))).post("/api/leases").then().statusCode(201);
        // names may hold non-ASCII letters
        operator().body(map("name", "Müller & Søn — Zürich 東京")).post("/api/tenants").then().statusCode(201);
    }

    /** A raw NUL byte (not valid JSON) is refused as malformed or in its field, also where the body is kept as a dead letter. */
    @ParameterizedTest(name = "raw NUL byte to {0}")
    @MethodSource("endpoints")
    void rawNulByteIsRefused(Endpoint e) {
        String field = e.strings().keySet().iterator().next();
        String body = bodyWith(e.body().get(), field, "\"a\u0000b\"");
        Map<String, Long> before = stored();
        e.who().get().body(body).request(e.method(), e.path().get()).then().statusCode(400)
                .contentType("application/problem+json").body("errors.field", anyOf(hasItem("body"), hasItem(field)));
        assertEquals(before, stored(), "nothing may be stored");
    }

    // ---- listings and query parameters ------------------------------------------------------------

    static Stream<Arguments> hostileQueries() {
        List<Arguments> out = new ArrayList<>();
        List<String> listings = List.of("/api/machines", "/api/tenants", "/api/leases", "/api/tenants/{tenant}/leases");
        for (String listing : listings) {
            for (String value : List.of("2147483647", "2147483648", "99999999999999999999", "-1", "-2147483648", "abc", "1.5")) {
                out.add(Arguments.of(listing, "page", value));
            }
            for (String value : List.of("2147483647", "2147483648", "100000", "0", "-1", "abc")) {
                out.add(Arguments.of(listing, "size", value));
            }
        }
        out.add(Arguments.of("/api/machines?size=500", "page", "4294968"));   // page × size beyond 2^31
        out.add(Arguments.of("/api/audit", "afterSeq", "99999999999999999999"));
        out.add(Arguments.of("/api/audit", "afterSeq", "-1"));
        out.add(Arguments.of("/api/audit", "limit", "2147483648"));
        out.add(Arguments.of("/api/audit", "limit", "abc"));
        for (String listing : List.of("/api/machines", "/api/tenants")) {
            out.add(Arguments.of(listing, "name", "a\u0000b"));
            out.add(Arguments.of(listing, "name", "a\u001bb"));
        }
        out.add(Arguments.of("/api/machines", "rack", "\u0000"));
        out.add(Arguments.of("/api/machines", "maintenance", "yes"));
        out.add(Arguments.of("/api/leases", "tenantId", "\u0000"));
        out.add(Arguments.of("/api/holds", "active", "maybe"));
        out.add(Arguments.of("/api/audit", "subject", "machine:\u0000"));
        out.add(Arguments.of("/api/audit", "actor", "a\u0000"));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} ?{1}={2}")
    @MethodSource("hostileQueries")
    void hostileQueryParameterIsRefusedNamingIt(String listing, String param, String value) {
        String path = listing.replace("{tenant}", tenant());
        problem(admin().queryParam(param, value).get(path), param);
    }

    @Test
    void theLastPageThatFitsIsAnEmptyPage() {
        admin().queryParam("page", 1_000_000).queryParam("size", 500).get("/api/machines").then().statusCode(200)
                .body("page", equalTo(1_000_000));
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** The body as JSON with {@code field} (a dotted path) set to the raw JSON {@code json}. */
    @SuppressWarnings("unchecked")
    static String bodyWith(Map<String, Object> body, String field, String json) {
        Map<String, Object> copy = deepCopy(body);
        String[] parts = field.split("\\.");
        Map<String, Object> at = copy;
        for (int i = 0; i < parts.length - 1; i++) {
            at = (Map<String, Object>) at.computeIfAbsent(parts[i], k -> new LinkedHashMap<>());
        }
        at.put(parts[parts.length - 1], HOLE);
        try {
            String text = JSON.writeValueAsString(copy);
            String hole = JSON.writeValueAsString(HOLE);
            return text.replace(hole, json);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> deepCopy(Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v instanceof Map<?, ?> inner ? deepCopy((Map<String, Object>) inner) : v));
        return out;
    }

    private static void problem(Response r, String field) {
        r.then().statusCode(400).contentType("application/problem+json").body("status", equalTo(400))
                .body("type", containsString("urn:metalgate:problem:")).body("errors.field", hasItem(field));
    }

    /** Rows that a successful write would add or change (audit entries: every write is audited; dead letters aside). */
    static Map<String, Long> stored() {
        Map<String, Long> counts = new LinkedHashMap<>();
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement()) {
            for (String q : List.of("SELECT count(*) FROM audit_entry WHERE action <> 'integration.dead-lettered'",
                    "SELECT count(*) FROM audit_pending", "SELECT count(*) FROM machine", "SELECT coalesce(sum(version), 0) FROM machine",
                    "SELECT count(*) FROM tenant", "SELECT coalesce(sum(version), 0) FROM tenant", "SELECT count(*) FROM lease",
                    "SELECT count(*) FROM app_user", "SELECT count(*) FROM api_token", "SELECT count(*) FROM inbound_event",
                    "SELECT count(*) FROM hold", "SELECT count(*) FROM notice_attempt", "SELECT count(*) FROM action_request",
                    "SELECT count(*) FROM bulk_plan")) {
                try (var rs = st.executeQuery(q)) {
                    rs.next();
                    counts.put(q, rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return counts;
    }
}
