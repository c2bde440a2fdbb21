package io.metalgate.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The appliance runs dnsmasq itself (FULL DHCP on a provisioning network: here a veth pair into a network
 * namespace): the child process answers a real DHCP client with the appliance's boot, and the host file follows
 * the machines inspection found.
 */
@QuarkusTest
@TestProfile(DnsmasqServiceTest.Provisioning.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class DnsmasqServiceTest {

    static final String NS = "mgprov";
    static final String HOST_IF = "mgprovh";
    static final String PEER_IF = "mgprovp";

    /** The provisioning network, made before the appliance starts. */
    public static class Network implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                stop();
                for (List<String> c : List.of(List.of("ip", "netns", "add", NS), List.of("ip", "link", "add", HOST_IF, "type", "veth", "peer",
                        "name", PEER_IF), List.of("ip", "link", "set", PEER_IF, "netns", NS), List.of("ip", "addr", "add", "10.77.8.1/24", "dev",
                                HOST_IF), List.of("ip", "link", "set", HOST_IF, "up"), List.of("ip", "netns", "exec", NS, "ip", "link", "set",
                                        PEER_IF, "up"))) {
                    var r = DnsmasqConfigTest.run(c);
                    if (r.exit() != 0) {
                        throw new IllegalStateException("network namespace setup (needs root): " + c + ": " + r.out());
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of();
        }

        @Override
        public void stop() {
            try {
                DnsmasqConfigTest.run(List.of("ip", "link", "del", HOST_IF));
                DnsmasqConfigTest.run(List.of("ip", "netns", "del", NS));
            } catch (Exception e) {
                // nothing to remove
            }
        }
    }

    public static class Provisioning implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("metalgate.boot.dnsmasq.enabled", "true", "metalgate.boot.dnsmasq.mode", "FULL", "metalgate.boot.dnsmasq.iface",
                    HOST_IF, "metalgate.boot.dnsmasq.range", "10.77.8.50,10.77.8.60,10m", "metalgate.boot.dnsmasq.appliance-address", "10.77.8.1",
                    "metalgate.boot.dnsmasq.refresh", "1h");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(Network.class));
        }
    }

    @Inject
    Dnsmasq dnsmasq;

    @Test
    void theChildDnsmasqAnswersAndItsHostFileFollowsTheMachines() throws Exception {
        assertTrue(dnsmasq.process() != null && dnsmasq.process().isAlive(), "dnsmasq runs as a child of the appliance");
        try (RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC)) {
            Lifecycle.available(bmcs, 1, "dhcp");
            dnsmasq.refresh();
            String hosts = Files.readString(dnsmasq.dir().resolve("hosts"));
            assertTrue(hosts.contains(bmcs.bmc(0).mac(1) + ",set:metalgate"), hosts);
            // the machine's own MAC on the client's side: its boot comes from the appliance's dnsmasq
            assertEquals(0, DnsmasqConfigTest.run(List.of("ip", "netns", "exec", NS, "ip", "link", "set", PEER_IF, "address",
                    bmcs.bmc(0).mac(1))).exit());
            Path script = Files.createTempFile("udhcpc", ".sh");
            Files.writeString(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"GOT siaddr=$siaddr boot_file=$boot_file\"\nexit 0\n");
            script.toFile().setExecutable(true);
            var r = DnsmasqConfigTest.run(List.of("ip", "netns", "exec", NS, "busybox", "udhcpc", "-i", PEER_IF, "-n", "-q", "-f", "-t", "5", "-T",
                    "1", "-s", script.toString(), "-V", "PXEClient:Arch:00000:UNDI:002001"));
            assertTrue(r.out().contains("GOT siaddr=10.77.8.1 boot_file=undionly.kpxe"), r.out());
        }
    }
}
