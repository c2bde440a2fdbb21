package io.metalgate.redfishmock;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real QEMU virtual machine behind an emulated BMC. Power on starts {@code qemu-system-x86_64} with the
 * boot order of this boot ({@code -boot order=n|c|d}: PXE, disk, CD); force off is QMP {@code quit};
 * graceful shutdown is QMP {@code system_powerdown} (ACPI — a guest without an OS ignores it, as a real
 * server does); a restart with the same boot source is QMP {@code system_reset}, and with another one a
 * new QEMU process, because a boot override only takes effect on the next boot. A guest that powers
 * itself off ends its QEMU process, so the BMC then reports Off.
 *
 * <p>The firmware's (SeaBIOS) debug log is written to {@link #firmwareLog()} — "Booting from ROM..." is
 * the NIC's iPXE, "Booting from Hard Disk...", "Booting from DVD/CD..." — and the serial console to
 * {@link #serialLog()}; both start afresh at each power-on. {@code extraArgs} add disks, kernels or
 * {@code -netdev user,tftp=…,bootfile=…} for a network boot.
 */
public final class QemuHost implements Host {

    private final Path dir;
    private final String mac;
    private final List<String> extraArgs;
    private final List<String> qemu;
    private Process process;
    private String currentTarget = "None";

    public QemuHost(Path dir, String mac, List<String> extraArgs) {
        this(dir, mac, extraArgs, List.of(System.getenv().getOrDefault("METALGATE_QEMU", "qemu-system-x86_64")));
    }

    /**
     * {@code command}: how QEMU is started, e.g. {@code ip netns exec NS qemu-system-x86_64} for a VM whose tap
     * device is in a network namespace.
     */
    public QemuHost(Path dir, String mac, List<String> extraArgs, List<String> command) {
        this.dir = dir;
        this.mac = mac;
        this.extraArgs = List.copyOf(extraArgs);
        this.qemu = List.copyOf(command);
    }

    public Path firmwareLog() {
        return dir.resolve("firmware.log");
    }

    public Path serialLog() {
        return dir.resolve("serial.log");
    }

    private Path qmpSocket() {
        return dir.resolve("qmp.sock");
    }

    @Override
    public synchronized boolean poweredOn() {
        return process != null && process.isAlive();
    }

    @Override
    public synchronized void powerOn(String bootTarget) {
        if (poweredOn()) {
            return;
        }
        start(bootTarget);
    }

    @Override
    public synchronized void forceOff() {
        if (!poweredOn()) {
            return;
        }
        try {
            qmp("quit");
        } catch (UncheckedIOException e) {
            // QMP gone: cut the process instead
        }
        stopProcess();
    }

    @Override
    public synchronized void gracefulShutdown() {
        if (poweredOn()) {
            qmp("system_powerdown");
        }
    }

    @Override
    public synchronized void forceRestart(String bootTarget) {
        if (poweredOn() && bootTarget.equals(currentTarget)) {
            qmp("system_reset");
            return;
        }
        forceOff();
        start(bootTarget);
    }

    @Override
    public synchronized void close() {
        forceOff();
    }

    /** {@code -boot order=…} for a Redfish boot target: the override first, then the usual order. */
    static String bootOrder(String bootTarget) {
        return switch (bootTarget) {
            case "Pxe", "UefiHttp" -> "n";
            case "Cd" -> "d";
            case "Hdd" -> "c";
            default -> "cdn";
        };
    }

    private void start(String bootTarget) {
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(qmpSocket());
            // a fresh log per boot: never read the last boot's lines as this one's
            Files.deleteIfExists(firmwareLog());
            Files.deleteIfExists(serialLog());
            List<String> cmd = new ArrayList<>(qemu);
            cmd.addAll(List.of("-machine", "pc,accel=tcg", "-m", "512", "-display", "none", "-nodefaults",
                    "-no-user-config", "-serial", "file:" + serialLog(), "-debugcon", "file:" + firmwareLog(), "-global",
                    "isa-debugcon.iobase=0x402", "-qmp", "unix:" + qmpSocket() + ",server=on,wait=off",
                    "-drive", "if=none,id=cd0,media=cdrom", "-device", "ide-cd,drive=cd0",
                    "-boot", "order=" + bootOrder(bootTarget)));
            if (extraArgs.stream().noneMatch(a -> a.startsWith("user,") || a.contains("netdev"))) {
                cmd.addAll(List.of("-netdev", "user,id=net0", "-device", "e1000,netdev=net0,mac=" + mac));
            }
            cmd.addAll(extraArgs);
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.out").toFile()).start();
            currentTarget = bootTarget;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(qmpSocket())) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("QEMU did not start: " + Files.readString(dir.resolve("qemu.out")));
                }
                if (System.nanoTime() > deadline) {
                    stopProcess();
                    throw new IllegalStateException("QEMU opened no QMP socket within 20 s");
                }
                Thread.sleep(20);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + String.join(" ", qemu) + " (Debian package qemu-system-x86)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void stopProcess() {
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** One QMP command on a fresh connection: greeting, qmp_capabilities, the command, its answer. */
    JsonObject qmp(String command) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(qmpSocket()));
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            var out = Channels.newOutputStream(ch);
            readAnswer(in, "QMP");
            out.write("{\"execute\":\"qmp_capabilities\"}\n".getBytes(StandardCharsets.UTF_8));
            readAnswer(in, "return");
            out.write(("{\"execute\":\"" + command + "\"}\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return readAnswer(in, "return");
        } catch (IOException e) {
            throw new UncheckedIOException("QMP " + command + " failed", e);
        }
    }

    private static JsonObject readAnswer(BufferedReader in, String key) throws IOException {
        for (String line; (line = in.readLine()) != null; ) {
            JsonObject m = new JsonObject(line);
            if (m.containsKey("error")) {
                throw new IOException("QMP error: " + m.getJsonObject("error").encode());
            }
            if (m.containsKey(key)) {
                return m; // events ({"event": …}) in between are skipped
            }
        }
        // quit closes the socket before or after its answer
        return new JsonObject();
    }
}
