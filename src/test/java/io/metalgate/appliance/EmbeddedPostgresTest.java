package io.metalgate.appliance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The embedded database itself: initialises once, keeps data across restarts, stops for real. */
class EmbeddedPostgresTest {

    @Test
    void dataSurvivesARestartAndTheServerStopsOnClose() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "embedded-pg-");
        var options = new EmbeddedPostgres.Options(dir, Optional.empty(), true);
        int firstPort;
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(options); Connection c = pg.ownerConnection()) {
            firstPort = pg.port();
            c.createStatement().execute("CREATE TABLE kept (v text)");
            c.createStatement().execute("INSERT INTO kept VALUES ('still here')");
        }
        assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + firstPort + "/metalgate", "x", "y").close(), "server must be down");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("db-owner.password"))));
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(options); Connection c = pg.ownerConnection();
                ResultSet rs = c.createStatement().executeQuery("SELECT v FROM kept")) {
            rs.next();
            assertEquals("still here", rs.getString(1));
            // the application role may log in, with the password from its 0600 file
            String appPassword = Files.readString(dir.resolve("db-app.password")).strip();
            try (Connection app = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/metalgate",
                    EmbeddedPostgres.APP_ROLE, appPassword)) {
                ResultSet role = app.createStatement().executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
                role.next();
                assertEquals(false, role.getBoolean(1), "the application role must not be a superuser");
            }
        }
    }
}
