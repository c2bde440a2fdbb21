package io.metalgate.appliance;

import io.metalgate.common.SecretFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The appliance's own PostgreSQL, used when no external database is configured: a cluster in
 * {@code <data-dir>/postgres}, started with the system's PostgreSQL binaries on a free loopback port,
 * stopped on shutdown. Two roles: {@code metalgate_owner} (superuser of this private cluster; runs the
 * migrations) and {@code metalgate_app} (what the application connects as; it may not alter the audit
 * log). Their passwords are generated once into 0600 files of the data directory.
 *
 * <p>PostgreSQL refuses to run as root; when we are root, its commands run as the {@code postgres}
 * system user through {@code runuser}, and the cluster directory belongs to that user.
 * Used by {@link MetalgateMain} and, through a test resource, by the tests: one mechanism.
 */
public final class EmbeddedPostgres implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EmbeddedPostgres.class);
    public static final String OWNER = "metalgate_owner";
    public static final String APP_ROLE = "metalgate_app";
    public static final String DATABASE = "metalgate";

    /** Where and how to run. {@code fastAndUnsafe} turns off fsync: for tests only. */
    public record Options(Path dataDir, Optional<Path> binDir, boolean fastAndUnsafe) {
    }

    private final Options options;
    private final Path pgData;
    private final Path binDir;
    private final boolean asRoot;
    private int port;
    private String ownerPassword;
    private String appPassword;
    private boolean running;

    private EmbeddedPostgres(Options options) {
        this.options = options;
        this.pgData = options.dataDir().toAbsolutePath().resolve("postgres");
        this.binDir = options.binDir().orElseGet(EmbeddedPostgres::findBinaries);
        this.asRoot = isRoot();
    }

    /** Initialises the cluster if needed, starts it, and creates the database and roles if needed. */
    public static EmbeddedPostgres start(Options options) {
        EmbeddedPostgres pg = new EmbeddedPostgres(options);
        pg.doStart();
        return pg;
    }

    public int port() {
        return port;
    }

    /** Configuration the application needs (Quarkus keys). */
    public Map<String, String> quarkusProperties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("quarkus.datasource.reactive.url", "postgresql://127.0.0.1:" + port + "/" + DATABASE);
        p.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE);
        p.put("quarkus.datasource.username", APP_ROLE);
        p.put("quarkus.datasource.password", appPassword);
        p.put("quarkus.flyway.username", OWNER);
        p.put("quarkus.flyway.password", ownerPassword);
        p.put("metalgate.database.app-role", APP_ROLE);
        return p;
    }

    /** A JDBC connection as the owner (tests use it to prove what the app role may not do). */
    public Connection ownerConnection() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE, OWNER, ownerPassword);
    }

    private void doStart() {
        try {
            Path dataDir = options.dataDir().toAbsolutePath();
            Files.createDirectories(dataDir);
            ownerPassword = new String(SecretFiles.readOrCreate(dataDir.resolve("db-owner.password"),
                    () -> SecretFiles.randomPassword().getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8).trim();
            appPassword = new String(SecretFiles.readOrCreate(dataDir.resolve("db-app.password"),
                    () -> SecretFiles.randomPassword().getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8).trim();
            if (!Files.exists(pgData.resolve("PG_VERSION"))) {
                initdb(dataDir);
            }
            stopLeftoverServer();
            port = freePort();
            List<String> serverOptions = new ArrayList<>(List.of("-p", String.valueOf(port), "-h", "127.0.0.1",
                    "-k", pgData.toString(), "-c", "max_connections=100"));
            if (options.fastAndUnsafe()) {
                serverOptions.addAll(List.of("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"));
            }
            run(Duration.ofSeconds(90), bin("pg_ctl"), "-D", pgData.toString(), "-l", pgData.resolve("server.log").toString(),
                    "-w", "-t", "60", "-o", String.join(" ", serverOptions), "start");
            running = true;
            createDatabaseAndRoles();
            LOG.infof("Embedded PostgreSQL running on 127.0.0.1:%d, data in %s", port, pgData);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + pgData, e);
        }
    }

    private void initdb(Path dataDir) throws IOException {
        Files.createDirectories(pgData);
        Path pwFile = dataDir.resolve("db-owner.pwfile");
        Files.deleteIfExists(pwFile);
        Files.createFile(pwFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(pwFile, ownerPassword + "\n");
        try {
            if (asRoot) {
                // The postgres user needs to reach the cluster directory and read the password file.
                Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx--x--x"));
                chown("postgres", pgData);
                chown("postgres", pwFile);
            }
            run(Duration.ofSeconds(120), bin("initdb"), "-D", pgData.toString(), "-U", OWNER, "--pwfile=" + pwFile,
                    "-A", "scram-sha-256", "-E", "UTF8", "--no-instructions");
        } finally {
            Files.deleteIfExists(pwFile);
        }
    }

    private void stopLeftoverServer() {
        // A previous run that was killed leaves its server running; it would hold the cluster.
        if (Files.exists(pgData.resolve("postmaster.pid"))) {
            try {
                run(Duration.ofSeconds(60), bin("pg_ctl"), "-D", pgData.toString(), "-m", "fast", "-w", "stop");
                LOG.warn("Stopped a PostgreSQL server left running by an earlier start");
            } catch (RuntimeException notRunning) {
                // pg_ctl says no server is running: a stale pid file, which PostgreSQL itself handles.
            }
        }
    }

    private void createDatabaseAndRoles() {
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
        try (Connection c = DriverManager.getConnection(url, OWNER, ownerPassword); Statement st = c.createStatement()) {
            if (!exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", APP_ROLE)) {
                st.execute("CREATE ROLE " + APP_ROLE + " LOGIN");
            }
            // The password file is the truth: set it on every start (it may have been rotated by hand).
            try (PreparedStatement ps = c.prepareStatement("SELECT set_config('metalgate.pw', ?, false)")) {
                ps.setString(1, appPassword);
                ps.execute();
            }
            st.execute("DO $$ BEGIN EXECUTE format('ALTER ROLE " + APP_ROLE
                    + " PASSWORD %L', current_setting('metalgate.pw')); END $$");
            if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", DATABASE)) {
                st.execute("CREATE DATABASE " + DATABASE + " OWNER " + OWNER + " ENCODING 'UTF8'");
            }
            st.execute("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + APP_ROLE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare the embedded database: " + e.getMessage(), e);
        }
        try (Connection c = ownerConnection(); Statement st = c.createStatement()) {
            st.execute("GRANT USAGE ON SCHEMA public TO " + APP_ROLE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare the embedded database: " + e.getMessage(), e);
        }
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Stops the server (fast shutdown: open sessions are ended, committed data is safe). */
    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        run(Duration.ofSeconds(60), bin("pg_ctl"), "-D", pgData.toString(), "-m", "fast", "-w", "-t", "50", "stop");
        LOG.info("Embedded PostgreSQL stopped");
    }

    private String bin(String name) {
        return binDir.resolve(name).toString();
    }

    private void run(Duration timeout, String... command) {
        List<String> cmd = new ArrayList<>();
        if (asRoot) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(List.of(command));
        try {
            Path out = Files.createTempFile("metalgate-pg", ".log");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(command[0] + " did not finish within " + timeout);
                }
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(Path.of(command[0]).getFileName() + " failed (exit " + p.exitValue()
                            + "): " + Files.readString(out).strip());
                }
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command[0], e);
        }
    }

    private void chown(String user, Path path) {
        try {
            Process p = new ProcessBuilder("chown", "-R", user, path.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("chown " + user + " " + path + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * The newest PostgreSQL server binaries: {@code METALGATE_PG_BIN}, else Debian's
     * /usr/lib/postgresql/N/bin, else the directory of {@code initdb} on the PATH.
     */
    static Path findBinaries() {
        String env = System.getenv("METALGATE_PG_BIN");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparingInt(v -> parseVersion(v.getFileName().toString())));
                if (newest.isPresent()) {
                    return newest.get().resolve("bin");
                }
            } catch (IOException ignored) {
                // fall through to PATH
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "initdb"))) {
                return Path.of(dir);
            }
        }
        throw new IllegalStateException("No PostgreSQL server binaries found for the embedded database. Install them "
                + "(Debian: apt-get install -y postgresql), set METALGATE_PG_BIN to their directory, or configure an "
                + "external database with QUARKUS_DATASOURCE_REACTIVE_URL (see README.md).");
    }

    private static int parseVersion(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
