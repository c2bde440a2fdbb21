package io.metalgate.bench;

import io.metalgate.conductor.PowerSync;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.redfish.RedfishDriver;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A full power-state sweep of 10,000 emulated Redfish BMCs (redfish-mocks in a separate process, mixed
 * profiles, each BMC on a loopback address of its own) through {@link PowerSync#sweep}: cold (TLS
 * handshake, service root, login, discovery for every BMC — on a JVM that already swept 3,800 other BMCs)
 * and warm (the periodic sweep: one GET each). The first sweep after the JVM started is reported apart.
 * Baseline: the naive way, one BMC at a time, measured in the same run. Target: ≤ 10 s for 10,000 with
 * the per-BMC connection limit kept (the emulator reports the most requests one BMC had in flight).
 * Needs redfish-mocks/target/redfish-mocks.jar (bench/run.sh builds it).
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class PowerSweepBench {

    static final int BMCS = Integer.getInteger("bench.bmcs", 10_000);
    /** Further BMCs, never in the measured sweeps: the naive cold sample and the first sweep after JVM start (JIT warm-up). */
    static final int WARMUP = Integer.getInteger("bench.warmup-bmcs", 4_000);

    @Inject
    PowerSync sync;
    @Inject
    RedfishDriver driver;

    @Test
    void sweep10000Bmcs() throws Exception {
        int port = EmulatorProcess.freePort(false);
        Process mock = EmulatorProcess.start("2g", "io.metalgate.redfishmock.RedfishMock", "redfish-mocks:", "--bmcs", String.valueOf(BMCS + WARMUP),
                "--profile", "mixed", "--port", String.valueOf(port), "--bind", "0.0.0.0", "--event-loops", "2");
        try {
            List<BmcEndpoint> all = new ArrayList<>();
            for (int i = 0; i < BMCS + WARMUP; i++) {
                all.add(new BmcEndpoint(UUID.randomUUID(), io.metalgate.redfishmock.RedfishMock.address(i), port, "admin", "redfish-secret",
                        Optional.empty()));
            }
            List<BmcEndpoint> warmup = all.subList(0, WARMUP);
            List<BmcEndpoint> bmcs = all.subList(WARMUP, WARMUP + BMCS);
            List<String> lines = new ArrayList<>();
            // naive, cold: one BMC after the other, on 200 warm-up BMCs (all 10,000 would take minutes), extrapolated
            int sample = Math.min(200, WARMUP);
            long t0 = System.nanoTime();
            int naiveFailures = 0;
            for (int i = 0; i < sample; i++) {
                naiveFailures += answered(warmup.get(i)) ? 0 : 1;
            }
            System.out.println("naive cold done, failures " + naiveFailures);
            double naiveColdPerBmc = (System.nanoTime() - t0) / 1e6 / sample;
            var os0 = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            // the first sweep after the JVM started, on the other warm-up BMCs: it pays for class loading and JIT compilation
            long w0 = System.nanoTime();
            long wcpu = os0.getProcessCpuTime();
            List<PowerSync.Observation> first = sync.sweep(warmup.subList(sample, WARMUP)).await().atMost(Duration.ofMinutes(5));
            lines.add(String.format("first sweep after JVM start (%d other BMCs, cold): %d ms, %d answered, CPU appliance %d ms", WARMUP - sample,
                    (System.nanoTime() - w0) / 1_000_000, first.stream().filter(PowerSync.Observation::ok).count(),
                    (os0.getProcessCpuTime() - wcpu) / 1_000_000));
            System.out.println(lines.get(lines.size() - 1));
            stats(port, true);
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            for (int round = 0; round < 3; round++) {
                long cpu0 = os.getProcessCpuTime();
                long mockCpu0 = mock.toHandle().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L);
                long t1 = System.nanoTime();
                System.out.println("sweep " + round + " starts " + Instant.now());
                List<PowerSync.Observation> obs = sync.sweep(bmcs).await().atMost(Duration.ofMinutes(5));
                System.out.println("sweep " + round + " ends " + Instant.now());
                long ms = (System.nanoTime() - t1) / 1_000_000;
                long clientCpu = (os.getProcessCpuTime() - cpu0) / 1_000_000;
                long mockCpu = mock.toHandle().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L) - mockCpu0;
                Map<String, Integer> failures = new TreeMap<>();
                obs.stream().filter(o -> !o.ok()).forEach(o -> failures.merge(o.error().kind().name(), 1, Integer::sum));
                lines.add(String.format("%s sweep %d BMCs: %d ms, %d answered, failures %s, CPU appliance %d ms, emulator %d ms",
                        round == 0 ? "cold" : "warm", BMCS, ms, obs.stream().filter(PowerSync.Observation::ok).count(), failures, clientCpu, mockCpu));
                System.out.println(lines.get(lines.size() - 1));
                obs.stream().filter(o -> !o.ok()).limit(3).forEach(o -> System.out.println("  e.g. " + o.error().getMessage()));
            }
            Map<String, Object> st = stats(port, false);
            // naive, warm: one at a time (sessions and connections already there), over the first 1,000, extrapolated
            int warmSample = Math.min(1000, BMCS);
            long t2 = System.nanoTime();
            for (BmcEndpoint b : bmcs.subList(0, warmSample)) {
                naiveFailures += answered(b) ? 0 : 1;
            }
            long naiveWarm = (System.nanoTime() - t2) / 1_000_000 * BMCS / warmSample;
            String line = String.format("%s power-sweep bmcs=%d %s; max-in-flight-per-bmc=%s; naive-warm=%d ms for all (extrapolated from the first 1,000); naive-failures=%d; "
                    + "naive-cold=%.2f ms/BMC (first %d, i.e. ~%.0f s for %d)%n", Instant.now(), BMCS, String.join("; ", lines),
                    st.get("maxInFlightPerBmc"), naiveWarm, naiveFailures, naiveColdPerBmc, sample, naiveColdPerBmc * BMCS / 1000, BMCS);
            System.out.print(line);
            Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } finally {
            mock.destroyForcibly();
            mock.waitFor();
        }
    }

    private boolean answered(BmcEndpoint b) {
        try {
            driver.powerState(b).await().atMost(Duration.ofSeconds(60));
            return true;
        } catch (RuntimeException e) {
            System.out.println("naive: " + e.getMessage());
            return false;
        }
    }

    /** The emulator's counters (any BMC address answers /mock/stats); {@code reset} zeroes the in-flight maximum. */
    private static Map<String, Object> stats(int port, boolean reset) throws Exception {
        var ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {
            }

            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {
            }

            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        } }, null);
        var params = new javax.net.ssl.SSLParameters();
        params.setEndpointIdentificationAlgorithm(null);
        HttpClient http = HttpClient.newBuilder().sslContext(ctx).sslParameters(params).build();
        var req = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/mock/stats"));
        var resp = http.send(reset ? req.DELETE().build() : req.GET().build(), HttpResponse.BodyHandlers.ofString());
        return new io.vertx.core.json.JsonObject(resp.body()).getMap();
    }
}
