package io.metalgate.integration;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;

import java.util.LinkedHashMap;
import java.util.Map;

/** Tenants, leases and lease events for the intake's tests, made through the API. */
final class IntakeFixtures {

    private IntakeFixtures() {
    }

    /** A new tenant's id. */
    static String tenant() {
        return operator().body(Map.of("name", unique("it"))).post("/api/tenants").then().statusCode(201).extract().path("id");
    }

    /** A new lease of {@code tenant}: its external reference (what events name). */
    static String lease(String tenant) {
        String ref = unique("IL");
        operator().body(Map.of("tenantId", tenant, "externalRef", ref)).post("/api/leases").then().statusCode(201);
        return ref;
    }

    /** A lease event from billing, as a JSON object. */
    static Map<String, Object> event(String id, String type, String lease) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("source", "billing");
        e.put("externalId", id);
        e.put("type", type);
        e.put("leaseRef", lease);
        return e;
    }
}
