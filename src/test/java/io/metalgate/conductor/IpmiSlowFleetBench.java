package io.metalgate.conductor;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.ipmi.IpmiDriver;
import io.metalgate.ipmisim.IpmiSim;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 1,000 slow but healthy IPMI BMCs (our simulator: each answers in 200–500 ms, and every datagram, re-sends
 * included, costs the simulated management CPU {@code bench.ipmi-service-micros}, 1 ms by default, serially):
 * three sweeps as shipped (adaptive concurrency up to 256, RTT-following re-send timeouts, a second ask for
 * what timed out) against three sweeps at a fixed 256 in flight (the sweep before issue 12), same fleet,
 * same run, production client settings (1 s, 3 re-sends).
 */
@Tag("bench")
@QuarkusTest
@io.quarkus.test.junit.TestProfile(io.metalgate.testing.ShippedDefaults.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiSlowFleetBench {

    static final int BMCS = Integer.getInteger("bench.ipmi-bmcs", 1000);
    static final long SERVICE = Long.getLong("bench.ipmi-service-micros", 1000);

    @Inject
    IpmiDriver driver;
    @Inject
    PowerSync sweeps;

    @Test
    void slowFleetSweeps() throws Exception {
        int port;
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        List<String> lines = new ArrayList<>();
        for (String mode : List.of("adaptive", "fixed-256")) {
            try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(port).withBmcs(BMCS).withServiceMicros(SERVICE))) {
                List<BmcEndpoint> fleet = new ArrayList<>();
                for (int i = 0; i < BMCS; i++) {
                    sim.bmc(i).minLatencyMillis = 200;
                    sim.bmc(i).maxLatencyMillis = 500;
                    fleet.add(new BmcEndpoint(UUID.randomUUID(), sim.host(i), port, "admin", "ipmi-secret", Optional.empty()));
                }
                for (int sweep = 1; sweep <= 3; sweep++) {
                    long cpu0 = sim.cpuMillis();
                    long t0 = System.nanoTime();
                    Map<String, Integer> failures = new TreeMap<>();
                    long answered;
                    if (mode.equals("adaptive")) {
                        var obs = sweeps.sweep(fleet, b -> driver).await().atMost(Duration.ofMinutes(10));
                        obs.stream().filter(o -> !o.ok()).forEach(o -> failures.merge(o.error().kind().name(), 1, Integer::sum));
                        answered = obs.stream().filter(o -> o.ok()).count();
                    } else {
                        List<Boolean> ok = Multi.createFrom().iterable(fleet).onItem()
                                .transformToUni(b -> driver.powerState(b).map(s -> true).onFailure(DriverException.class).recoverWithItem(e -> {
                                    synchronized (failures) {
                                        failures.merge(((DriverException) e).kind().name(), 1, Integer::sum);
                                    }
                                    return false;
                                }))
                                .merge(256).collect().asList().await().atMost(Duration.ofMinutes(10));
                        answered = ok.stream().filter(x -> x).count();
                    }
                    double s = (System.nanoTime() - t0) / 1e9;
                    String line = String.format("%s sweep %d: %d of %d answered in %.1f s (%.0f/s), failures %s, simulator CPU %d ms", mode,
                            sweep, answered, BMCS, s, answered / s, failures, sim.cpuMillis() - cpu0);
                    System.out.println(line);
                    lines.add(line);
                }
                // sessions closed all at once (one at a time, a slow fleet takes minutes to say goodbye)
                io.smallrye.mutiny.Multi.createFrom().iterable(fleet).onItem().transformToUni(b -> driver.release(b).onFailure().recoverWithNull())
                        .merge(256).collect().asList().await().atMost(Duration.ofMinutes(2));
            }
        }
        String out = String.format("%s ipmi-slow-fleet bmcs=%d latency=200-500ms service=%dus: %s%n", Instant.now(), BMCS, SERVICE,
                String.join("; ", lines));
        Files.writeString(Path.of("target", "bench-results.txt"), out, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
