package io.metalgate.security;

import static io.metalgate.testing.Api.enrollment;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.machine.MachineService;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class SecretsTest {

    @Inject
    MachineService machines;
    @Inject
    SecretCipher cipher;

    @Test
    void bmcPasswordIsEncryptedAtRestBoundToItsMachineAndNeverLogged() throws Throwable {
        String password = "Pl41n-" + UUID.randomUUID();
        List<String> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLoggerName() != null && r.getLoggerName().startsWith("org.apache.http")) {
                    return; // the test's own HTTP client (wire log of the request we sent)
                }
                logged.add(String.valueOf(r.getMessage()) + " " + (r.getParameters() == null ? "" : List.of(r.getParameters()))
                        + " " + (r.getThrown() == null ? "" : r.getThrown()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        Level before = root.getLevel();
        root.addHandler(capture);
        root.setLevel(Level.ALL);
        String id;
        try {
            id = operator().body(enrollment(unique("sec"), password)).post("/api/machines").then().statusCode(201)
                    .extract().path("id");
            // a failing request with the password in it must not log it either
            operator().body(Map.of("name", "bad name", "bmc", Map.of("protocol", "IPMI", "host", "h", "username", "u",
                    "password", password))).post("/api/machines").then().statusCode(400);
        } finally {
            root.removeHandler(capture);
            root.setLevel(before);
        }
        assertTrue(logged.size() > 0, "the capture saw no log records at all; it would prove nothing");
        for (String line : logged) {
            assertFalse(line.contains(password), "password in log: " + line);
        }

        String stored;
        try (var c = PostgresTestResource.postgres().ownerConnection();
                var ps = c.prepareStatement("SELECT bmc_secret FROM machine WHERE id = ?")) {
            ps.setObject(1, UUID.fromString(id));
            var rs = ps.executeQuery();
            rs.next();
            stored = rs.getString(1);
        }
        assertTrue(stored.startsWith("v1:"), stored);
        assertFalse(stored.contains(password));
        String machineId = id;
        assertEquals(password, VertxContextSupport.subscribeAndAwait(() -> machines.bmcPassword(UUID.fromString(machineId))));
        assertThrows(IllegalStateException.class, () -> cipher.decrypt(stored, UUID.randomUUID().toString()),
                "a ciphertext moved to another machine must not decrypt");
    }
}
