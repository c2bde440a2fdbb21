package io.metalgate.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A provisioning network for virtual machines that really network-boot from the appliance under test:
 *
 * <pre>
 *   host namespace                         namespace mge2eN
 *   appliance (HTTP, TFTP :69) ── mghN ═══ mgnN ─┬─ bridge mgbr (10.213.N.2: dnsmasq, DHCP only)
 *   10.213.N.1                       veth        ├─ mgtap0 … mgtap3 ── QEMU VMs (run in the namespace)
 * </pre>
 *
 * dnsmasq is the appliance's own child ({@code metalgate.boot.dnsmasq.*}, FULL mode), started in the namespace
 * through a one-line wrapper; QEMU is started there too ({@link #qemuCommand()}). Where network namespaces are
 * refused, the lab falls back to QEMU's user-mode network (its built-in DHCP hands iPXE the appliance's script URL;
 * no dnsmasq, no TFTP) and says so ({@link #mode()}).
 */
public class PxeLab implements QuarkusTestResourceLifecycleManager {

    private static final String PROP = "metalgate-test.pxe.";
    public static final int TAPS = 4;

    private String ns;
    private String hostVeth;

    @Override
    public Map<String, String> start() {
        Path agent = Path.of("iso-builder/out").toAbsolutePath();
        if (!Files.exists(agent.resolve("initrd.img")) || !Files.exists(agent.resolve("vmlinuz"))) {
            throw new IllegalStateException("the erase agent is not built: run iso-builder/build (the README's test command does)");
        }
        int httpPort = freePort();
        Map<String, String> cfg = new HashMap<>();
        cfg.put("quarkus.http.test-port", Integer.toString(httpPort));
        cfg.put("metalgate.boot.agent-dir", agent.toString());
        cfg.put("metalgate.erase.minimum-method", "CLEAR");
        cfg.put("metalgate.erase.verify-sample-blocks", "64");
        cfg.put("metalgate.erase.trust-discard", "true");
        System.setProperty(PROP + "port", Integer.toString(httpPort));
        int n = 100 + (int) (ProcessHandle.current().pid() % 150);
        ns = "mge2e" + n;
        hostVeth = "mgh" + n;
        String peer = "mgn" + n;
        String net = "10.213." + n + ".";
        try {
            run(false, "ip", "netns", "del", ns);
            run(false, "ip", "link", "del", hostVeth);
            run(true, "ip", "netns", "add", ns);
            run(true, "ip", "link", "add", hostVeth, "type", "veth", "peer", "name", peer);
            run(true, "ip", "link", "set", peer, "netns", ns);
            run(true, "ip", "addr", "add", net + "1/24", "dev", hostVeth);
            run(true, "ip", "link", "set", hostVeth, "up");
            inNs("ip", "link", "set", "lo", "up");
            inNs("ip", "link", "add", "mgbr", "type", "bridge");
            inNs("ip", "link", "set", peer, "master", "mgbr", "up");
            for (int i = 0; i < TAPS; i++) {
                inNs("ip", "tuntap", "add", "dev", "mgtap" + i, "mode", "tap");
                inNs("ip", "link", "set", "mgtap" + i, "master", "mgbr", "up");
            }
            inNs("ip", "addr", "add", net + "2/24", "dev", "mgbr");
            // a unique-local prefix, so dnsmasq advertises a router and iPXE need not wait for one (docs/network-boot.md)
            inNs("ip", "addr", "add", "fd6d:6774:" + Integer.toHexString(n) + "::2/64", "dev", "mgbr");
            inNs("ip", "link", "set", "mgbr", "up");
            Path wrapper = Path.of("target/pxe-lab/dnsmasq-in-" + ns).toAbsolutePath();
            Files.createDirectories(wrapper.getParent());
            Files.writeString(wrapper, "#!/bin/sh\n# the appliance's dnsmasq child, in the lab's namespace\nexec ip netns exec " + ns + " dnsmasq \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
            cfg.put("metalgate.boot.dnsmasq.enabled", "true");
            cfg.put("metalgate.boot.dnsmasq.mode", "FULL");
            cfg.put("metalgate.boot.dnsmasq.iface", "mgbr");
            cfg.put("metalgate.boot.dnsmasq.range", net + "100," + net + "199,1h");
            cfg.put("metalgate.boot.dnsmasq.appliance-address", net + "1");
            cfg.put("metalgate.boot.dnsmasq.http-port", Integer.toString(httpPort));
            cfg.put("metalgate.boot.dnsmasq.binary", wrapper.toString());
            cfg.put("metalgate.boot.dnsmasq.refresh", "2s");
            cfg.put("metalgate.boot.require-lease", "true");
            cfg.put("metalgate.boot.tftp.host", net + "1");
            cfg.put("metalgate.boot.tftp.port", "69");
            cfg.put("metalgate.boot.tftp.root", "/usr/lib/ipxe");
            System.setProperty(PROP + "mode", "netns");
            System.setProperty(PROP + "ns", ns);
            System.setProperty(PROP + "appliance", net + "1");
        } catch (IllegalStateException | IOException e) {
            // no network namespaces here: QEMU's user-mode network instead
            stop();
            ns = null;
            System.setProperty(PROP + "mode", "user (network namespaces refused: " + e.getMessage() + ")");
            System.clearProperty(PROP + "ns");
        }
        return cfg;
    }

    @Override
    public void stop() {
        if (ns != null) {
            run(false, "ip", "netns", "pids", ns); // (listed in the log of a failed run)
            run(false, "ip", "netns", "del", ns);
        }
        if (hostVeth != null) {
            run(false, "ip", "link", "del", hostVeth);
        }
    }

    /** "netns", or "user (…why)" where the fallback ran. */
    public static String mode() {
        return System.getProperty(PROP + "mode", "not started");
    }

    public static boolean namespaces() {
        return mode().equals("netns");
    }

    /** How to start QEMU: in the lab's namespace, or as it is. */
    public static List<String> qemuCommand() {
        String ns = System.getProperty(PROP + "ns");
        return ns == null ? List.of("qemu-system-x86_64") : List.of("ip", "netns", "exec", ns, "qemu-system-x86_64");
    }

    /** QEMU's network arguments for a VM on tap {@code tap} with {@code mac}. */
    public static List<String> network(int tap, String mac) {
        if (namespaces()) {
            return List.of("-netdev", "tap,id=net0,ifname=mgtap" + tap + ",script=no,downscript=no", "-device", "e1000,netdev=net0,mac=" + mac);
        }
        String script = "http://10.0.2.2:" + System.getProperty(PROP + "port") + "/boot/ipxe?mac=" + mac;
        return List.of("-netdev", "user,id=net0,bootfile=" + script, "-device", "e1000,netdev=net0,mac=" + mac);
    }

    private void inNs(String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        run(true, c.toArray(new String[0]));
    }

    private static void run(boolean check, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || (check && p.exitValue() != 0)) {
                throw new IllegalStateException(String.join(" ", cmd) + ": " + out.strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", cmd) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
