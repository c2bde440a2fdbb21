package io.metalgate.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The dnsmasq configuration the appliance writes, against the real dnsmasq (Debian dnsmasq-base): both setups pass
 * its syntax check, and on a veth pair into a network namespace a real DHCP client (busybox udhcpc) is given what
 * each kind of boot needs — a BIOS PXE client undionly.kpxe, a UEFI one snponly.efi, both from the appliance's TFTP
 * address, and iPXE the appliance's script URL.
 */
class DnsmasqConfigTest {

    static Run run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        return new Run(p.exitValue(), out);
    }

    record Run(int exit, String out) {
    }

    @Test
    void bothSetupsPassDnsmasqsSyntaxCheck() throws Exception {
        Path dir = Files.createTempDirectory("dnsmasq");
        Files.writeString(dir.resolve("hosts"), DnsmasqConfig.hosts(List.of(new DnsmasqConfig.Host("52:54:00:AA:BB:CC", "rack1 node 7"),
                new DnsmasqConfig.Host("not a mac", "x"))));
        assertEquals("52:54:00:aa:bb:cc,set:metalgate,rack1-node-7\n", Files.readString(dir.resolve("hosts")));
        for (var s : List.of(new DnsmasqConfig.Settings(DnsmasqConfig.Mode.FULL, "eth1", "10.20.0.50,10.20.0.250", "10.20.0.1", 8080),
                new DnsmasqConfig.Settings(DnsmasqConfig.Mode.PROXY, "eth0", "192.168.1.0", "192.168.1.5", 8080))) {
            Path conf = dir.resolve(s.mode() + ".conf");
            Files.writeString(conf, DnsmasqConfig.config(s, dir.resolve("hosts").toString(), dir.resolve("leases").toString()));
            Run r = run(List.of("dnsmasq", "--test", "--conf-file=" + conf));
            assertEquals(0, r.exit(), s.mode() + ": " + r.out());
            assertTrue(r.out().contains("syntax check OK"), r.out());
        }
        // a value that would smuggle another directive in is refused before it is written
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new DnsmasqConfig.Settings(
                DnsmasqConfig.Mode.FULL, "eth0\ndhcp-script=/tmp/x", "10.0.0.2,10.0.0.9", "10.0.0.1", 80));
    }

    @Test
    void aRealDhcpClientIsGivenWhatItsBootNeeds() throws Exception {
        String ns = "mgdhcp" + ProcessHandle.current().pid() % 10000;
        String host = "mgh" + ProcessHandle.current().pid() % 10000;
        String peer = "mgp" + ProcessHandle.current().pid() % 10000;
        Path dir = Files.createTempDirectory("dnsmasq-live");
        Process dnsmasq = null;
        try {
            for (List<String> c : List.of(List.of("ip", "netns", "add", ns), List.of("ip", "link", "add", host, "type", "veth", "peer", "name", peer),
                    List.of("ip", "link", "set", peer, "netns", ns), List.of("ip", "addr", "add", "10.77.9.1/24", "dev", host),
                    List.of("ip", "link", "set", host, "up"), List.of("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up"),
                    List.of("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"))) {
                Run r = run(c);
                assertEquals(0, r.exit(), "network namespace setup (needs root, as the README's test command runs): " + c + ": " + r.out());
            }
            var s = new DnsmasqConfig.Settings(DnsmasqConfig.Mode.FULL, host, "10.77.9.50,10.77.9.60,10m", "10.77.9.1", 8080);
            Files.writeString(dir.resolve("hosts"), "");
            Path conf = dir.resolve("dnsmasq.conf");
            Files.writeString(conf, DnsmasqConfig.config(s, dir.resolve("hosts").toString(), dir.resolve("leases").toString()));
            dnsmasq = new ProcessBuilder("dnsmasq", "--keep-in-foreground", "--conf-file=" + conf, "--pid-file=" + dir.resolve("pid"))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
            Thread.sleep(500);
            assertTrue(dnsmasq.isAlive(), Files.readString(dir.resolve("log")));
            Path script = dir.resolve("udhcpc.sh");
            Files.writeString(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"GOT ip=$ip siaddr=$siaddr boot_file=$boot_file\"\nexit 0\n");
            script.toFile().setExecutable(true);

            Map<String, String> bios = lease(ns, peer, script, List.of("-V", "PXEClient:Arch:00000:UNDI:002001"));
            assertEquals("undionly.kpxe", bios.get("boot_file"), bios.toString());
            assertEquals("10.77.9.1", bios.get("siaddr"));
            assertTrue(bios.get("ip").startsWith("10.77.9."), bios.toString());
            Map<String, String> uefi = lease(ns, peer, script, List.of("-V", "PXEClient:Arch:00007:UNDI:003016"));
            assertEquals("snponly.efi", uefi.get("boot_file"), uefi.toString());
            Map<String, String> ipxe = lease(ns, peer, script, List.of("-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x4d:69505845"));
            assertEquals("http://10.77.9.1:8080/boot/ipxe?mac=${net0/mac}", ipxe.get("boot_file"), ipxe.toString());
        } finally {
            if (dnsmasq != null) {
                dnsmasq.destroy();
                dnsmasq.waitFor(5, TimeUnit.SECONDS);
            }
            run(List.of("ip", "link", "del", host));
            run(List.of("ip", "netns", "del", ns));
        }
    }

    private static Map<String, String> lease(String ns, String iface, Path script, List<String> extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", iface, "-n", "-q", "-f", "-t", "5",
                "-T", "1", "-s", script.toString()));
        cmd.addAll(extra);
        Run r = run(cmd);
        Map<String, String> got = new TreeMap<>();
        for (String line : r.out().split("\n")) {
            if (line.startsWith("GOT ")) {
                for (String kv : line.substring(4).split(" ")) {
                    int eq = kv.indexOf('=');
                    got.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        assertTrue(!got.isEmpty(), "no lease: " + r.out());
        return got;
    }
}
