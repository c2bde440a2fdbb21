package io.metalgate.conductor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.ipmi.IpmiDriver;
import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.DatagramSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A fleet of slow but healthy IPMI BMCs (each answers in 200–500 ms, and the simulator's management CPU is
 * shared: every datagram, re-sends included, costs it 10 ms): one sweep reads every one of them, although the
 * test's client waits only 300 ms before a re-send. Before adaptive concurrency and RTT-following timeouts a
 * sweep like this answered TIMEOUT for most of the fleet, worse with each sweep as re-sends piled up.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiFleetSweepTest {

    @Inject
    PowerSync sync;
    @Inject
    IpmiDriver ipmi;

    @Test
    void aSweepOfSlowHealthyBmcsReadsThemAll() throws Exception {
        int port;
        try (DatagramSocket probe = new DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(port).withBmcs(100).withServiceMicros(10_000))) {
            List<BmcEndpoint> fleet = new ArrayList<>();
            for (int i = 0; i < sim.size(); i++) {
                sim.bmc(i).minLatencyMillis = 200;
                sim.bmc(i).maxLatencyMillis = 500;
                fleet.add(new BmcEndpoint(UUID.randomUUID(), sim.host(i), port, "admin", "ipmi-secret", Optional.empty()));
            }
            for (int sweep = 1; sweep <= 2; sweep++) {
                List<PowerSync.Observation> obs = sync.sweep(fleet, b -> ipmi).await().atMost(Duration.ofMinutes(3));
                Map<String, Long> failures = obs.stream().filter(o -> !o.ok())
                        .collect(Collectors.groupingBy(o -> o.error().kind().name(), Collectors.counting()));
                assertEquals(Map.of(), failures, "sweep " + sweep + ": " + obs.stream().filter(o -> !o.ok()).limit(3)
                        .map(o -> o.error().getMessage()).toList() + "; simulator CPU " + sim.cpuMillis() + " ms");
            }
            fleet.forEach(b -> ipmi.release(b).await().atMost(Duration.ofSeconds(10)));
        }
    }
}
