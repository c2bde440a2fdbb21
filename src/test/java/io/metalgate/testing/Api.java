package io.metalgate.testing;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** Request helpers for API tests: the bootstrap admin and one user per role, created on demand. */
public final class Api {

    public static final String PASSWORD = "correct-horse-battery";
    private static final Map<String, Boolean> CREATED = new ConcurrentHashMap<>();

    private Api() {
    }

    public static String adminPassword() {
        try {
            return Files.readString(PostgresTestResource.dataDir().resolve("admin.password")).strip();
        } catch (IOException e) {
            throw new IllegalStateException("the appliance did not write admin.password", e);
        }
    }

    public static RequestSpecification admin() {
        return given().auth().preemptive().basic("admin", adminPassword()).contentType(ContentType.JSON);
    }

    /** A user holding exactly {@code role} (created the first time it is asked for). */
    public static RequestSpecification as(String role) {
        return as(role, "test-" + role);
    }

    /** The user {@code name}, holding exactly {@code role} (created the first time it is asked for): a second person in a role. */
    public static RequestSpecification as(String role, String name) {
        CREATED.computeIfAbsent(name, n -> {
            admin().body(Map.of("username", n, "password", PASSWORD, "roles", List.of(role)))
                    .post("/api/users").then().statusCode(201);
            return true;
        });
        return given().auth().preemptive().basic(name, PASSWORD).contentType(ContentType.JSON);
    }

    public static RequestSpecification operator() {
        return as("operator");
    }

    public static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * A valid enrolment body with a unique name and BMC endpoint: a loopback address of its own with nothing
     * listening (a BMC's identity is its resolved address, so each machine needs one; verification fails fast).
     */
    public static Map<String, Object> enrollment(String name, String password) {
        return Map.of("name", name, "rack", "R7", "location", "FRA1",
                "bmc", Map.of("protocol", "REDFISH", "host", RedfishMocks.freshAddress(), "port", 1, "username", "root", "password", password));
    }
}
