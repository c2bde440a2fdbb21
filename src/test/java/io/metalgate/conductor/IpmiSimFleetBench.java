package io.metalgate.conductor;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.ipmi.IpmiDriver;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fleet of issue 12's report: {@code bench.ipmi-sim-bmcs} (1,000) real OpenIPMI {@code ipmi_sim} processes,
 * one per BMC, on this machine. Side by side in one run: three power-state sweeps as shipped (PowerSync: the
 * adaptive limit, RTT-following re-sends, timed-out BMCs asked again; production client settings) and
 * {@code ipmitool -I lanplus -C 3 … chassis status} (suite 3, which ipmi_sim offers and our client falls back to) as a subprocess per call, 4 at once for 20 s, over the same BMCs (without
 * {@code -C} ipmitool 1.8.19 first waits 10 s for Get Channel Cipher Suites, which ipmi_sim does not answer).
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiSimFleetBench {

    static final int BMCS = Integer.getInteger("bench.ipmi-sim-bmcs", 1000);
    static final int BASE_PORT = 30000;

    @Inject
    IpmiDriver driver;
    @Inject
    PowerSync sweeps;

    @Test
    void ipmiSimFleetSweepsAgainstIpmitool() throws Exception {
        Path root = Files.createTempDirectory("ipmi-sim-fleet");
        List<Process> sims = new ArrayList<>();
        try {
            for (int i = 0; i < BMCS; i++) {
                sims.add(start(root.resolve("bmc-" + i), BASE_PORT + i));
            }
            // ready when the last one answers
            waitFor(BASE_PORT + BMCS - 1);
            List<BmcEndpoint> fleet = new ArrayList<>();
            for (int i = 0; i < BMCS; i++) {
                fleet.add(new BmcEndpoint(UUID.randomUUID(), "127.0.0.1", BASE_PORT + i, "admin", "secret", Optional.empty()));
            }
            List<String> lines = new ArrayList<>();
            for (int sweep = 1; sweep <= 3; sweep++) {
                long t0 = System.nanoTime();
                var obs = sweeps.sweep(fleet, b -> driver).await().atMost(Duration.ofMinutes(10));
                double s = (System.nanoTime() - t0) / 1e9;
                Map<String, Integer> failures = new TreeMap<>();
                obs.stream().filter(o -> !o.ok()).forEach(o -> failures.merge(o.error().kind().name(), 1, Integer::sum));
                long answered = obs.stream().filter(o -> o.ok()).count();
                String line = String.format("metalgate sweep %d: %d of %d answered in %.2f s (%.0f/s), failures %s", sweep, answered, BMCS, s,
                        answered / s, failures);
                System.out.println(line);
                lines.add(line);
            }
            // sessions closed all at once (one at a time, a slow fleet takes minutes to say goodbye)
                io.smallrye.mutiny.Multi.createFrom().iterable(fleet).onItem().transformToUni(b -> driver.release(b).onFailure().recoverWithNull())
                        .merge(256).collect().asList().await().atMost(Duration.ofMinutes(2));

            AtomicInteger next = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long t1 = System.nanoTime();
            for (int w = 0; w < 4; w++) {
                pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        int i = next.getAndIncrement() % BMCS;
                        try {
                            Process p = new ProcessBuilder("ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String.valueOf(BASE_PORT + i),
                                    "-U", "admin", "-P", "secret", "-N", "1", "-R", "3", "chassis", "status").redirectErrorStream(true).start();
                            String out = new String(p.getInputStream().readAllBytes());
                            if (p.waitFor() == 0 && out.contains("System Power")) {
                                done.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                            }
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            pool.shutdown();
            pool.awaitTermination(2, TimeUnit.MINUTES);
            double ipmitoolQps = done.get() / ((System.nanoTime() - t1) / 1e9);
            String out = String.format("%s ipmi_sim fleet, %d processes: %s | ipmitool subprocess per call (4 at once, 20 s): %.1f q/s "
                    + "(%d answered, %d failed) | cores=%d%n", Instant.now(), BMCS, String.join("; ", lines), ipmitoolQps, done.get(), failed.get(),
                    Runtime.getRuntime().availableProcessors());
            System.out.print(out);
            Files.writeString(Path.of("target", "bench-results.txt"), out, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } finally {
            sims.forEach(Process::destroy);
            for (Process p : sims) {
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static Process start(Path dir, int port) throws Exception {
        Files.createDirectories(dir.resolve("sim"));
        Files.writeString(dir.resolve("lan.conf"), """
                name "fleet"
                set_working_mc 0x20
                  startlan 1
                    addr 127.0.0.1 %d
                    priv_limit admin
                    allowed_auths_callback none md2 md5 straight
                    allowed_auths_user none md2 md5 straight
                    allowed_auths_operator none md2 md5 straight
                    allowed_auths_admin none md2 md5 straight
                    guid %032x
                  endlan
                user 2 true "admin" "secret" admin 10 none md2 md5 straight
                """.formatted(port, 0xa1000000L + port));
        Files.writeString(dir.resolve("bmc.emu"), """
                mc_setbmc 0x20
                mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
                mc_enable 0x20
                """);
        return new ProcessBuilder("ipmi_sim", "-c", dir.resolve("lan.conf").toString(), "-f", dir.resolve("bmc.emu").toString(), "-s",
                dir.resolve("sim").toString(), "-n").redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
    }

    private static void waitFor(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            Process p = new ProcessBuilder("ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", String.valueOf(port), "-U", "admin", "-P",
                    "secret", "chassis", "status").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() == 0) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("ipmi_sim on port " + port + " never answered");
    }
}
