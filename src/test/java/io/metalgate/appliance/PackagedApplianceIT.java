package io.metalgate.appliance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Black-box tests of the packaged appliance ({@code java -jar target/quarkus-app/quarkus-run.jar}) as a
 * newcomer runs it: embedded PostgreSQL in the data directory, admin password printed once, data kept
 * across a restart, database stopped with the appliance; and the offline {@code audit verify} command.
 */
class PackagedApplianceIT {

    private static final Path JAR = Path.of(System.getProperty("quarkus-run.jar", "target/quarkus-app/quarkus-run.jar"));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private record Running(Process process, List<String> output, int port) {
    }

    @Test
    void runsOnItsOwnPostgresKeepsDataAcrossRestartsAndExportsAVerifiableLog() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-data-");
        Running first = start(dataDir);
        String password;
        Path export = dataDir.resolve("export.jsonl");
        try {
            String printed = first.output().stream().filter(l -> l.contains("created user 'admin' with password")).findFirst()
                    .orElseThrow(() -> new AssertionError("admin password not printed: " + first.output()));
            password = Files.readString(dataDir.resolve("admin.password")).strip();
            assertTrue(printed.contains(password));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("admin.password"))));
            HttpResponse<String> enrolled = send(first.port(), password, "POST", "/api/machines",
                    "{\"name\":\"it-001\",\"bmc\":{\"protocol\":\"IPMI\",\"host\":\"127.0.0.1\",\"port\":6230,"
                            + "\"username\":\"ADMIN\",\"password\":\"it-bmc-secret\"}}");
            assertEquals(201, enrolled.statusCode(), enrolled.body());
            HttpResponse<Path> exported = http.send(request(first.port(), password, "GET", "/api/audit/export", null),
                    HttpResponse.BodyHandlers.ofFile(export));
            assertEquals(200, exported.statusCode());
        } finally {
            stop(first);
        }
        assertFalse(Files.exists(dataDir.resolve("postgres/postmaster.pid")), "PostgreSQL must stop with the appliance");
        for (String line : first.output()) {
            assertFalse(line.contains("it-bmc-secret"), "BMC secret in output: " + line);
        }

        Running second = start(dataDir);
        try {
            assertTrue(second.output().stream().noneMatch(l -> l.contains("created user 'admin'")), "printed only once");
            HttpResponse<String> list = send(second.port(), password, "GET", "/api/machines?name=it-001", null);
            assertEquals(200, list.statusCode());
            assertTrue(list.body().contains("\"total\":1"), list.body());
        } finally {
            stop(second);
        }

        // the first start printed the key's fingerprint; the data directory pins it
        String printed = first.output().stream().filter(l -> l.contains("Audit signing key SHA-256 fingerprint: "))
                .findFirst().orElseThrow(() -> new AssertionError("no fingerprint printed at first start"));
        String fingerprint = printed.replaceAll(".*fingerprint: ([0-9a-f]{64}).*", "$1");
        assertTrue(Files.exists(dataDir.resolve("audit-public-key.pem")));

        // offline verification: no database, no server; and no trust without an anchor
        Cli untrusted = cli("audit", "verify", export.toString());
        assertEquals(3, untrusted.exit(), untrusted.output());
        assertTrue(untrusted.output().contains("key not trusted: pass --key"), untrusted.output());
        Cli ok = cli("audit", "verify", export.toString(), "--data-dir", dataDir.toString());
        assertEquals(0, ok.exit(), ok.output());
        assertTrue(ok.output().startsWith("OK: "), ok.output());
        Cli byFingerprint = cli("audit", "verify", export.toString(), "--key", fingerprint);
        assertEquals(0, byFingerprint.exit(), byFingerprint.output());

        List<String> lines = Files.readAllLines(export);
        int entryLine = 1; // the first entry (seq 1) follows the header
        byte[] bytes = Files.readAllBytes(export);
        int offset = lines.get(0).getBytes(StandardCharsets.UTF_8).length + 1 + 20;
        bytes[offset] ^= 0x01;
        Path tampered = dataDir.resolve("tampered.jsonl");
        Files.write(tampered, bytes);
        Cli bad = cli("audit", "verify", tampered.toString(), "--data-dir", dataDir.toString());
        assertEquals(1, bad.exit(), bad.output());
        assertTrue(bad.output().contains("entry seq 1"), bad.output() + " (line " + entryLine + ")");

        Cli missing = cli("audit", "verify", dataDir.resolve("nope.jsonl").toString());
        assertEquals(2, missing.exit(), missing.output());
    }

    @Test
    void usesAConfiguredExternalDatabaseAsIsAndLogsJsonOnRequest() throws Exception {
        Path external = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-external-db-");
        Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-data-ext-");
        try (EmbeddedPostgres db = EmbeddedPostgres.start(new EmbeddedPostgres.Options(external, java.util.Optional.empty(), true))) {
            java.util.Map<String, String> env = new java.util.HashMap<>();
            db.quarkusProperties().forEach((k, v) -> env.put(k.toUpperCase().replace('.', '_').replace('-', '_'), v));
            env.put("METALGATE_LOG_JSON", "true");
            Running app = start(dataDir, env);
            try {
                assertFalse(Files.exists(dataDir.resolve("postgres")), "no embedded database with an external one configured");
                String password = Files.readString(dataDir.resolve("admin.password")).strip();
                HttpResponse<String> list = send(app.port(), password, "GET", "/api/machines", null);
                assertEquals(200, list.statusCode(), list.body());
                assertTrue(app.output().stream().anyMatch(l -> l.startsWith("{") && l.contains("\"message\"")
                        && l.contains("Listening on")), "JSON log lines expected: " + app.output());
            } finally {
                stop(app);
            }
            try (var c = db.ownerConnection(); var rs = c.createStatement().executeQuery("SELECT count(*) FROM app_user")) {
                rs.next();
                assertEquals(1, rs.getLong(1), "the appliance's users live in the external database");
            }
        }
    }

    @Test
    void anUnknownArgumentGetsMetalgatesUsageAndExit2BeforeAnythingStarts() throws Exception {
        for (String arg : List.of("-Dquarkus.http.port=18100", "--bogus", "--port=notaport")) {
            Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-usage-");
            ProcessBuilder pb = new ProcessBuilder(javaBin(), "-jar", JAR.toString(), arg);
            pb.environment().put("METALGATE_DATA_DIR", dataDir.toString());
            pb.redirectOutput(dataDir.resolve("stdout").toFile()).redirectError(dataDir.resolve("stderr").toFile());
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(arg + ": still running");
            }
            String err = Files.readString(dataDir.resolve("stderr"));
            String out = Files.readString(dataDir.resolve("stdout"));
            assertEquals(2, p.exitValue(), arg + ": " + out + err);
            assertTrue(err.contains("usage: metalgate") && err.contains("--port PORT"), arg + ": usage on stderr expected: " + err);
            assertTrue(err.contains(arg.split("=")[0]) || err.contains("notaport"), arg + ": the argument is named: " + err);
            assertFalse((out + err).contains("Quarkus") || (out + err).contains("Camel"), arg + ": nothing started: " + out + err);
            assertFalse(Files.exists(dataDir.resolve("postgres")), arg + ": no database started");
        }
    }

    @Test
    void portOptionSetsTheHttpPortAndHelpPrintsTheUsage() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "it-port-");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Running app = start(dataDir, java.util.Map.of(), port, List.of("--port", String.valueOf(port)));
        try {
            String password = Files.readString(dataDir.resolve("admin.password")).strip();
            HttpResponse<String> list = send(port, password, "GET", "/api/machines", null);
            assertEquals(200, list.statusCode(), list.body());
        } finally {
            stop(app);
        }
        Process help = new ProcessBuilder(javaBin(), "-jar", JAR.toString(), "--help").redirectErrorStream(true).start();
        String out = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(help.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, help.exitValue(), out);
        assertTrue(out.contains("usage: metalgate") && out.contains("--data-dir DIR"), out);
    }

    private record Cli(int exit, String output) {
    }

    private static Cli cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("METALGATE_DATA_DIR", "/nonexistent"); // no pinned key found by default
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertFalse(out.contains("Quarkus"), "verify must not start the appliance: " + out);
        return new Cli(p.exitValue(), out);
    }

    private static Running start(Path dataDir) throws Exception {
        return start(dataDir, java.util.Map.of());
    }

    private static Running start(Path dataDir, java.util.Map<String, String> env) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        java.util.Map<String, String> withPort = new java.util.HashMap<>(env);
        withPort.putIfAbsent("QUARKUS_HTTP_PORT", String.valueOf(port));
        return start(dataDir, withPort, port, List.of());
    }

    /** Starts the jar with {@code args} and waits until it listens on {@code port} (set by env or args). */
    private static Running start(Path dataDir, java.util.Map<String, String> env, int port, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-jar", JAR.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("METALGATE_DATA_DIR", dataDir.toString());
        pb.environment().remove("QUARKUS_HTTP_PORT");
        pb.environment().putAll(env);
        Process p = pb.start();
        List<String> output = io.metalgate.testing.ProcessLines.collect(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (output.stream().noneMatch(l -> l.startsWith("metalgate is running"))
                || output.stream().noneMatch(l -> l.contains("Listening on: http://0.0.0.0:" + port))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("appliance did not start: " + String.join("\n", output));
            }
            Thread.sleep(100);
        }
        return new Running(p, output, port);
    }

    private static void stop(Running r) throws InterruptedException {
        r.process().destroy(); // SIGTERM, as an init system would
        if (!r.process().waitFor(90, TimeUnit.SECONDS)) {
            r.process().destroyForcibly();
            throw new AssertionError("appliance did not stop on SIGTERM");
        }
    }

    private HttpResponse<String> send(int port, String password, String method, String path, String json) throws Exception {
        return http.send(request(port, password, method, path, json), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(int port, String password, String method, String path, String json) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("admin:" + password).getBytes()))
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build();
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
