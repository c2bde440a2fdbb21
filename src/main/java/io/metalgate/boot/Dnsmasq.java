package io.metalgate.boot;

import io.metalgate.common.MetalgateConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Runs dnsmasq for network boot (when {@code metalgate.boot.dnsmasq.enabled}): writes its configuration
 * ({@link DnsmasqConfig}) and host file of known MACs under {@code <data-dir>/dnsmasq}, starts it as a child process
 * (started again if it exits), and keeps the host file current, signalling dnsmasq (SIGHUP) to read it again. With
 * {@code external-pid-file} it starts nothing and signals that dnsmasq instead.
 */
@ApplicationScoped
public class Dnsmasq {

    private static final Logger LOG = Logger.getLogger(Dnsmasq.class);

    @Inject
    MetalgateConfig config;
    @Inject
    Pool pool;

    private volatile Process process;
    private volatile boolean stopping;
    private volatile String hosts = "";

    Path dir() {
        return Path.of(config.dataDir(), "dnsmasq");
    }

    void onStart(@Observes StartupEvent e) throws IOException {
        var c = config.boot().dnsmasq();
        if (!c.enabled()) {
            return;
        }
        var settings = new DnsmasqConfig.Settings(DnsmasqConfig.Mode.valueOf(c.mode().toUpperCase(java.util.Locale.ROOT)),
                c.iface().orElseThrow(() -> new IllegalStateException("metalgate.boot.dnsmasq.iface is required")),
                c.range().orElseThrow(() -> new IllegalStateException("metalgate.boot.dnsmasq.range is required")),
                c.applianceAddress().orElseThrow(() -> new IllegalStateException("metalgate.boot.dnsmasq.appliance-address is required")),
                c.httpPort());
        Files.createDirectories(dir());
        writeHosts(knownHosts());
        Files.writeString(dir().resolve("dnsmasq.conf"), DnsmasqConfig.config(settings, dir().resolve("hosts").toString(),
                dir().resolve("leases").toString()));
        if (c.externalPidFile().isEmpty()) {
            startProcess();
        } else {
            signal();
        }
    }

    void onStop(@Observes ShutdownEvent e) {
        stopping = true;
        Process p = process;
        if (p != null) {
            p.destroy();
        }
    }

    private synchronized void startProcess() throws IOException {
        if (stopping) {
            return;
        }
        Path conf = dir().resolve("dnsmasq.conf");
        process = new ProcessBuilder(config.boot().dnsmasq().binary(), "--keep-in-foreground", "--log-facility=-", "--conf-file=" + conf,
                "--pid-file=" + dir().resolve("dnsmasq.pid")).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir().resolve("dnsmasq.log").toFile())).start();
        LOG.infof("dnsmasq started (pid %d) with %s", process.pid(), conf);
        long startedAt = System.nanoTime();
        process.onExit().thenRun(() -> {
            if (!stopping) {
                // a machine may be waiting for its DHCP answer: at once after a crash of a dnsmasq that ran a while (Debian's
                // 2.90 aborts now and then when a bridge port goes away), 5 s after one that could not stay up a minute
                long delay = System.nanoTime() - startedAt > 60_000_000_000L ? 200 : 5000;
                LOG.warnf("dnsmasq exited (%d); started again in %d ms (its log: %s)", process.exitValue(), delay, dir().resolve("dnsmasq.log"));
                try {
                    Thread.sleep(delay);
                    startProcess();
                } catch (Exception ex) {
                    LOG.errorf("dnsmasq could not be started again: %s", ex.toString());
                }
            }
        });
    }

    /**
     * The address dnsmasq leased to {@code mac} and has not seen expire, from its lease file ("expiry mac ip name
     * client-id" a line; expiry 0: infinite).
     */
    Optional<String> leasedAddress(String mac, java.time.Instant now) {
        Path leases = dir().resolve("leases");
        if (!Files.exists(leases)) {
            return Optional.empty();
        }
        try {
            for (String line : Files.readAllLines(leases)) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 3 && f[1].equalsIgnoreCase(mac)) {
                    long expiry = Long.parseLong(f[0]);
                    if (expiry == 0 || expiry > now.getEpochSecond()) {
                        return Optional.of(f[2]);
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            LOG.warnf("dnsmasq's lease file %s is not readable: %s", leases, e.toString());
        }
        return Optional.empty();
    }

    /** The known MACs now: every machine's (from inspection), with its name. */
    List<DnsmasqConfig.Host> knownHosts() {
        List<DnsmasqConfig.Host> out = new ArrayList<>();
        pool.query("SELECT mm.mac, m.name FROM machine_mac mm JOIN machine m ON m.id = mm.machine_id ORDER BY mm.mac").execute()
                .await().atMost(Duration.ofSeconds(30)).forEach((Row r) -> out.add(new DnsmasqConfig.Host(r.getString("mac"), r.getString("name"))));
        return out;
    }

    private boolean writeHosts(List<DnsmasqConfig.Host> known) throws IOException {
        String text = DnsmasqConfig.hosts(known);
        if (text.equals(hosts) && Files.exists(dir().resolve("hosts"))) {
            return false;
        }
        Path tmp = dir().resolve("hosts.tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, dir().resolve("hosts"), java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        hosts = text;
        return true;
    }

    /** Rewrites the host file when the known MACs changed, and has dnsmasq read it again. */
    @Scheduled(every = "${metalgate.boot.dnsmasq.refresh:30s}", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refresh() throws IOException {
        if (!config.boot().dnsmasq().enabled()) {
            return;
        }
        if (writeHosts(knownHosts())) {
            signal();
        }
    }

    private void signal() throws IOException {
        Path pidFile = config.boot().dnsmasq().externalPidFile().map(Path::of).orElse(dir().resolve("dnsmasq.pid"));
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        try {
            new ProcessBuilder("kill", "-HUP", Long.toString(pid)).start().waitFor();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** The child dnsmasq, if one runs (tests). */
    Process process() {
        return process;
    }
}
