package io.metalgate.security;

import static io.metalgate.testing.Api.admin;
import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.metalgate.testing.Api;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class SecurityTest {

    @Test
    void noOrWrongCredentialsAre401ProblemJson() {
        for (String path : List.of("/api/machines", "/api/tenants", "/api/leases", "/api/audit", "/api/users", "/api/tokens",
                "/api/audit/export")) {
            given().get(path).then().statusCode(401).contentType("application/problem+json")
                    .header("WWW-Authenticate", containsString("Basic"));
        }
        given().auth().preemptive().basic("admin", "wrong-password").get("/api/machines").then().statusCode(401);
        given().auth().preemptive().basic("nobody", "whatever-password").get("/api/machines").then().statusCode(401);
        given().header("Authorization", "Bearer mgt_notatoken").get("/api/machines").then().statusCode(401);
        given().contentType(ContentType.JSON).body("{}").post("/api/integrations/lease-events").then().statusCode(401);
    }

    @Test
    void rolesAreEnforcedWith403() {
        as("viewer").get("/api/machines").then().statusCode(200);
        as("viewer").body(enrollment(unique("v"), "pw")).post("/api/machines").then().statusCode(403)
                .contentType("application/problem+json");
        as("approver").body(Map.of("name", unique("t"))).post("/api/tenants").then().statusCode(403);
        as("operator").get("/api/users").then().statusCode(403);
        as("operator").get("/api/audit/export").then().statusCode(403);
        as("viewer").body("{}").post("/api/integrations/lease-events").then().statusCode(403);
        as("operator").body(enrollment(unique("o"), "pw")).post("/api/machines").then().statusCode(201);
        // admin holds every role
        admin().body(Map.of("name", unique("t"))).post("/api/tenants").then().statusCode(201);
        as("legal").get("/api/users/me").then().statusCode(200).body("roles", hasItems("legal", "viewer"));
    }

    @Test
    void apiTokensAuthenticateUntilRevokedAndCarryAtMostTheirOwnersRoles() {
        var created = as("operator").body(Map.of("name", "billing", "roles", List.of("operator"))).post("/api/tokens");
        created.then().statusCode(201).body("token", startsWith("mgt_"));
        String token = created.jsonPath().getString("token");
        String id = created.jsonPath().getString("id");
        given().header("Authorization", "Bearer " + token).get("/api/users/me").then().statusCode(200)
                .body("name", equalTo("test-operator/billing")).body("authentication", equalTo("token"));
        given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON)
                .body(Map.of("name", unique("tok"))).post("/api/tenants").then().statusCode(201);
        // a token cannot mint tokens, and nobody can grant a role they lack
        given().header("Authorization", "Bearer " + token).contentType(ContentType.JSON).body(Map.of("name", "x"))
                .post("/api/tokens").then().statusCode(403);
        as("operator").body(Map.of("name", "escalate", "roles", List.of("admin"))).post("/api/tokens").then().statusCode(400)
                .body("errors[0].field", equalTo("roles"));
        // a token names its roles (never "all of mine" by default), in any case, and expires in 90 days unless asked
        as("operator").body(Map.of("name", "all-of-mine")).post("/api/tokens").then().statusCode(400).body("errors[0].field", equalTo("roles"));
        String expires = as("operator").body(Map.of("name", unique("cased"), "roles", List.of("Operator"))).post("/api/tokens").then()
                .statusCode(201).body("roles", equalTo(List.of("operator"))).extract().path("expiresAt");
        long days = java.time.Duration.between(java.time.Instant.now(), java.time.Instant.parse(expires)).toDays();
        org.junit.jupiter.api.Assertions.assertTrue(days >= 89 && days <= 90, expires);
        as("operator").delete("/api/tokens/" + id).then().statusCode(204);
        given().header("Authorization", "Bearer " + token).get("/api/users/me").then().statusCode(401);
        // the token secret is stored only as its hash
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT count(*) FROM api_token WHERE token_hash = '" + token + "'")) {
            rs.next();
            assertEquals(0, rs.getLong(1));
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void usersAreStoredWithArgon2idAndAdminPasswordFileIsPrivate() throws Exception {
        String name = unique("user");
        admin().body(Map.of("username", name, "roles", List.of("viewer"))).post("/api/users").then().statusCode(201);
        admin().body(Map.of("username", name, "roles", List.of("viewer"))).post("/api/users").then().statusCode(409);
        admin().body(Map.of("username", unique("u"), "roles", List.of("wizard"))).post("/api/users").then().statusCode(400)
                .body("errors[0].field", equalTo("roles"));
        try (var c = PostgresTestResource.postgres().ownerConnection(); var st = c.createStatement();
                var rs = st.executeQuery("SELECT password_hash FROM app_user WHERE username = 'admin'")) {
            rs.next();
            String hash = rs.getString(1);
            assertFalse(hash.contains(Api.adminPassword()));
            assertEquals(true, hash.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"), hash);
        }
        var file = PostgresTestResource.dataDir().resolve("admin.password");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                PostgresTestResource.dataDir().resolve("audit-signing.key"))));
    }
}
