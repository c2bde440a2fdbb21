package io.metalgate.bench;


import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 630 erase agents at once against one appliance (HTTP clients, no VMs; issue 13, point 8): each asks for its task
 * (a gate decision under the machine's lock, audited), the technique of each of its two disks, reports progress, and
 * sends its final report (checked, certificate signed and chained, machine ERASED). Requests/s and latency
 * percentiles over all calls; target p99 < 100 ms. {@code -Dbench.agents=N}, {@code -Dbench.agent-threads=N}.
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class EraseAgentsBench {

    static final int AGENTS = Integer.getInteger("bench.agents", 630);
    static final int THREADS = Integer.getInteger("bench.agent-threads", 64);

    /** Agents run before the measured ones, unmeasured: the appliance as it runs for months, not its first second (JIT). */
    static final int WARM_UP = Integer.getInteger("bench.warm-up-agents", 200);

    @Test
    void agentsAtOnce() throws Exception {
        List<String[]> agents = seed(WARM_UP + 2 * AGENTS); // token, serial1, serial2, system UUID
        run(agents.subList(0, WARM_UP), "warm-up", THREADS, 0);
        // saturation: 64 agents at a time, each call right after the last (a closed loop: how much the appliance does)
        // -Dbench.jfr=FILE: a JFR profile of this phase
        jdk.jfr.Recording recording = System.getProperty("bench.jfr") == null ? null
                : new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
        if (recording != null) {
            recording.start();
        }
        run(agents.subList(WARM_UP, WARM_UP + AGENTS), "saturated", THREADS, 0);
        if (recording != null) {
            recording.dump(java.nio.file.Path.of(System.getProperty("bench.jfr")));
            recording.close();
        }
        // all 630 at once, as agents are: each call after a few seconds' work (a real disk takes minutes)
        run(agents.subList(WARM_UP + AGENTS, agents.size()), "paced", AGENTS, PACE_MS);
    }

    /** The paced agents' work between two calls: 2 s on average (uniform 0–4 s), far quicker than any disk's erase. */
    static final int PACE_MS = Integer.getInteger("bench.agent-pace-ms", 2000);

    private static final ThreadLocal<Integer> PACE = ThreadLocal.withInitial(() -> 0);

    private static void pause() {
        int pace = PACE.get();
        if (pace > 0) {
            try {
                Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextInt(2 * pace));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void run(List<String[]> agents, String phase, int threads, int paceMs) throws Exception {
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long t0 = System.nanoTime();
        List<Future<Boolean>> done = new ArrayList<>();
        for (String[] a : agents) {
            done.add(pool.submit(() -> {
                PACE.set(paceMs);
                return agent(a, latencies);
            }));
        }
        int erased = 0;
        for (Future<Boolean> f : done) {
            erased += f.get() ? 1 : 0;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        String line = String.format("%s erase-agents %s agents=%d threads=%d erased=%d requests=%d seconds=%.1f requests-per-second=%.0f "
                + "p50-ms=%.1f p99-ms=%.1f max-ms=%.1f cores=%d%n", Instant.now(), phase, agents.size(), threads, erased, sorted.size(), seconds,
                sorted.size() / seconds, pct(sorted, 0.50), pct(sorted, 0.99), sorted.get(sorted.size() - 1) / 1e6,
                Runtime.getRuntime().availableProcessors());
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static double pct(List<Long> sorted, double p) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1)) / 1e6;
    }

    private static <T> T timed(List<Long> latencies, java.util.function.Supplier<T> call) {
        pause();
        long t = System.nanoTime();
        T r = call.get();
        latencies.add(System.nanoTime() - t);
        return r;
    }

    /**
     * The agents' HTTP client: the JDK's, shared, as light as curl is in the agent (RestAssured's Groovy machinery cost
     * more CPU than the appliance's work, on the same two cores).
     */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode post(String path, Object body, int status) {
        try {
            HttpRequest r = HttpRequest.newBuilder(URI.create("http://localhost:" + io.restassured.RestAssured.port + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
            HttpResponse<byte[]> res = HTTP.send(r, HttpResponse.BodyHandlers.ofByteArray());
            if (res.statusCode() != status) {
                throw new AssertionError(path + " answered " + res.statusCode() + ": " + new String(res.body()));
            }
            return res.body().length == 0 ? null : JSON.readTree(res.body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean agent(String[] a, List<Long> latencies) {
        String token = a[0];
        timed(latencies, () -> post("/api/agent/task", Map.of("token", token), 200));
        // what it found on its machine's hardware, as the real agent tells it before any disk
        timed(latencies, () -> post("/api/agent/disks", Map.of("token", token, "systemUuid", a[3], "disks", List.of(Map.of("serialNumber", a[1]),
                Map.of("serialNumber", a[2]))), 200));
        List<Map<String, Object>> disks = new ArrayList<>();
        for (int d = 1; d <= 2; d++) {
            String serial = a[d];
            timed(latencies, () -> post("/api/agent/task", Map.of("token", token, "nextDisk", serial), 200));
            timed(latencies, () -> post("/api/agent/technique", Map.of("token", token, "disk", Map.of("serialNumber", serial, "transport", "NVME",
                    "nvmeIdCtrl", "sanicap   : 0x2\n")), 200));
            timed(latencies, () -> post("/api/agent/progress", Map.of("token", token, "serialNumber", serial, "phase", "ERASING", "percent", 50), 204));
            Instant s = Instant.now();
            disks.add(Map.of("serialNumber", serial, "technique", "NVME_SANITIZE_BLOCK", "tool", "nvme-cli", "toolVersion", "2.4",
                    "verification", Map.of("method", "read-back", "sampledBlocks", 256, "mismatches", 0, "passed", true),
                    "startedAt", s.toString(), "endedAt", s.plusMillis(1).toString(), "result", "SUCCESS"));
        }
        JsonNode outcome = timed(latencies, () -> post("/api/agent/report", Map.of("token", token, "disks", disks), 200));
        return "ERASED".equals(outcome.path("state").asText());
    }

    /** ERASING machines never leased (the gate's ERASE_CONTINUE allows), two disks each, a token each (SQL: the API path is tested elsewhere). */
    private static List<String[]> seed(int n) throws Exception {
        List<String[]> out = new ArrayList<>();
        String prefix = "agb" + System.nanoTime() % 100000;
        try (Connection c = PostgresTestResource.postgres().ownerConnection();
                var m = c.prepareStatement("INSERT INTO machine (id, name, bmc_protocol, bmc_host, bmc_port, bmc_username, bmc_secret, "
                        + "lifecycle_state, created_at, updated_at, bmc_identity, inventory) VALUES (?, ?, 'IPMI', ?, 623, 'ADMIN', 'v1:none', "
                        + "'ERASING', now(), now(), ?, ?)");
                var t = c.prepareStatement("INSERT INTO boot_token (token_sha256, machine_id, mac, issued_at, expires_at) VALUES (?, ?, "
                        + "'52:00:00:00:00:01', now(), now() + interval '1 hour')");
                var h = c.prepareStatement("INSERT INTO machine_hardware_id (hardware_id, machine_id) VALUES (?, ?)")) {
            for (int i = 0; i < n; i++) {
                UUID id = UUID.randomUUID();
                String s1 = prefix + "-" + i + "-A";
                String s2 = prefix + "-" + i + "-B";
                m.setObject(1, id);
                m.setString(2, prefix + "-m-" + i);
                m.setString(3, prefix + "-" + i);
                m.setString(4, prefix + "-" + i);
                m.setString(5, "{\"manufacturer\":\"bench\",\"model\":\"m\",\"serialNumber\":\"" + prefix + i + "\",\"processors\":[],\"memory\":[],"
                        + "\"disks\":[{\"id\":\"1\",\"serialNumber\":\"" + s1 + "\"},{\"id\":\"2\",\"serialNumber\":\"" + s2 + "\"}],\"nics\":[],"
                        + "\"volumes\":[]}");
                m.addBatch();
                String token = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "").substring(0, 11);
                t.setString(1, sha256(token));
                t.setObject(2, id);
                t.addBatch();
                String uuid = UUID.randomUUID().toString();
                h.setString(1, "system-uuid:" + uuid);
                h.setObject(2, id);
                h.addBatch();
                out.add(new String[] { token, s1, s2, uuid });
            }
            m.executeBatch();
            t.executeBatch();
            h.executeBatch();
        }
        return out;
    }

    private static String sha256(String s) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
}
