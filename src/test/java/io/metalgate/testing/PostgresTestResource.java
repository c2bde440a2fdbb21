package io.metalgate.testing;

import io.metalgate.appliance.EmbeddedPostgres;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A real PostgreSQL for {@code @QuarkusTest}s, started by the same {@link EmbeddedPostgres} the appliance
 * uses (fsync off: tests only), in a fresh data directory under target/. No Docker engine is needed.
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    private static EmbeddedPostgres postgres;
    private static Path dataDir;

    @Override
    public Map<String, String> start() {
        try {
            dataDir = Path.of("target", "test-data", UUID.randomUUID().toString()).toAbsolutePath();
            Files.createDirectories(dataDir);
            // a stand-in erase agent (%test.metalgate.boot.agent-dir), so an ERASING machine is handed its agent's script:
            // the appliance hands out no token when no agent is built; EraseVmTest boots the real one iso-builder builds
            Path agent = Path.of("target", "agent");
            Files.createDirectories(agent);
            for (String f : new String[] {"vmlinuz", "initrd.img"}) {
                if (!Files.exists(agent.resolve(f))) {
                    Files.writeString(agent.resolve(f), "stand-in " + f + " for tests\n");
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        // Benchmarks run with -Dbench.durable-db=true: fsync on, as in production.
        boolean durable = Boolean.getBoolean("bench.durable-db");
        postgres = EmbeddedPostgres.start(new EmbeddedPostgres.Options(dataDir, java.util.Optional.empty(), !durable));
        Map<String, String> config = new HashMap<>(postgres.quarkusProperties());
        config.put("metalgate.data-dir", dataDir.toString());
        return config;
    }

    @Override
    public void stop() {
        if (postgres != null) {
            postgres.close();
        }
    }

    public static EmbeddedPostgres postgres() {
        return postgres;
    }

    public static Path dataDir() {
        return dataDir;
    }

    /** Runs one statement as the owner with {@code id} as its only parameter: test set-up the API cannot do (yet). */
    public static void sql(String statement, String id) {
        try (var c = postgres().ownerConnection(); var ps = c.prepareStatement(statement)) {
            ps.setString(1, id);
            ps.executeUpdate();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first column of the first row of a query with {@code id} as its only parameter (null if no row). */
    public static String sqlValue(String query, String id) {
        try (var c = postgres().ownerConnection(); var ps = c.prepareStatement(query)) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
