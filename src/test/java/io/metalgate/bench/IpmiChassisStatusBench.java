package io.metalgate.bench;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.ipmi.IpmiDriver;
import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.testing.IpmiTool;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Multi;
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
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Chassis-status queries per second across 1,000 simulated IPMI BMCs (our simulator in a separate
 * process, one UDP socket per BMC on its own loopback address, cipher suite 17): our client (one socket,
 * sessions kept, 256 BMCs in flight) against {@code ipmitool -I lanplus -C 17 … chassis status} as a
 * subprocess per call (as most tools do it), on the same simulators in the same run, with 4 calls in
 * flight. Target: ours ≥ 50× ipmitool. Needs redfish-mocks/target/redfish-mocks.jar (bench/run.sh builds it).
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiChassisStatusBench {

    static final int BMCS = Integer.getInteger("bench.ipmi-bmcs", 1000);

    @Inject
    IpmiDriver driver;

    @Test
    void chassisStatusAcross1000Bmcs() throws Exception {
        int port = EmulatorProcess.freePort(true);
        Process sim = EmulatorProcess.start("1g", "io.metalgate.ipmisim.IpmiSim", "ipmi-sim:", "--bmcs", String.valueOf(BMCS),
                "--port", String.valueOf(port), "--event-loops", "1");
        try {
            List<BmcEndpoint> bmcs = new ArrayList<>();
            for (int i = 0; i < BMCS; i++) {
                bmcs.add(new BmcEndpoint(UUID.randomUUID(), IpmiSim.address(i), port, "admin", "ipmi-secret", Optional.empty()));
            }
            List<String> ours = new ArrayList<>();
            double best = 0;
            List<Double> warm = new ArrayList<>();
            double coldQps = 0;
            for (int round = 0; round < 16; round++) {
                long t0 = System.nanoTime();
                Map<String, Integer> failures = new TreeMap<>();
                List<Boolean> ok = Multi.createFrom().iterable(bmcs).onItem()
                        .transformToUni(b -> driver.powerState(b).map(s -> true).onFailure(DriverException.class).recoverWithItem(e -> {
                            synchronized (failures) {
                                failures.merge(((DriverException) e).kind().name(), 1, Integer::sum);
                            }
                            return false;
                        }))
                        .merge(256).collect().asList().await().atMost(Duration.ofMinutes(5));
                double s = (System.nanoTime() - t0) / 1e9;
                long answered = ok.stream().filter(x -> x).count();
                double qps = answered / s;
                if (round > 0) {
                    best = Math.max(best, qps);
                    warm.add(qps);
                } else {
                    coldQps = qps;
                }
                ours.add(String.format("%s %.0f q/s (%d answered in %.2f s, failures %s)", round == 0 ? "cold (sessions opened)" : "warm", qps,
                        answered, s, failures));
                System.out.println("ours: " + ours.get(ours.size() - 1));
            }
            // ipmitool, a process per call, 4 at once, for 20 s over the same BMCs
            ExecutorService pool = Executors.newFixedThreadPool(4);
            AtomicInteger next = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            long t1 = System.nanoTime();
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        int i = next.getAndIncrement() % BMCS;
                        try {
                            var run = IpmiTool.run(IpmiSim.address(i), port, 17, "admin", "ipmi-secret", "chassis", "status");
                            (run.exitCode() == 0 && run.output().contains("System Power") ? done : failed).incrementAndGet();
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get();
            }
            pool.shutdown();
            double ipmitoolQps = done.get() / ((System.nanoTime() - t1) / 1e9);
            java.util.Collections.sort(warm);
            double median = warm.get(warm.size() / 2);
            String line = String.format("%s ipmi-chassis-status bmcs=%d suite=17 ours: %s; ours warm median %.0f q/s, best %.0f q/s; "
                    + "ipmitool subprocess per call (4 at once): %.1f q/s (%d answered, %d failed); ratio median-warm/ipmitool = %.0fx, "
                    + "cold/ipmitool = %.0fx%n", Instant.now(), BMCS, String.join("; ", ours), median, best, ipmitoolQps, done.get(), failed.get(),
                    median / ipmitoolQps, coldQps / ipmitoolQps);
            System.out.print(line);
            Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } finally {
            sim.destroyForcibly();
            sim.waitFor();
        }
    }
}
