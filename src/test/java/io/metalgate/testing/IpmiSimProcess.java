package io.metalgate.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenIPMI {@code ipmi_sim} (Debian package openipmi) on a free UDP port of a loopback address of its own
 * ({@link #host}: a BMC's identity is its address, so two of one test run must not share one), with one
 * administrator and a chassis_control program that keeps power and boot device in files, as
 * ../shared/stack.md describes. {@link #power()} and {@link #bootDevice()} read what the BMC was told.
 */
public final class IpmiSimProcess implements AutoCloseable {

    public final Path dir;
    public final int port;
    /** The loopback address it listens on. */
    public final String host;
    private final Process process;

    private IpmiSimProcess(Path dir, String host, int port, Process process) {
        this.host = host;
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /** An operator account and a user account besides the administrator, with their privilege limits enforced. */
    public static final String OPERATOR = "oper";
    public static final String OPERATOR_PASSWORD = "oper-secret";
    public static final String VIEWER = "viewer";
    public static final String VIEWER_PASSWORD = "viewer-secret";

    public static IpmiSimProcess start(String user, String password) throws Exception {
        return start(user, password, "");
    }

    /** As {@link #start(String, String)}, with more emulator commands for the BMC (e.g. {@code mc_add_fru_data}) before it is enabled. */
    public static IpmiSimProcess start(String user, String password, String emuCommands) throws Exception {
        Path dir = Files.createTempDirectory("ipmi-sim");
        String host = RedfishMocks.freshAddress();
        // a system GUID of its own: two simulators with one would be one server (the appliance refuses the twin)
        String guid = java.util.HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(16).putLong(java.util.concurrent.ThreadLocalRandom.current()
                .nextLong()).putLong(java.util.concurrent.ThreadLocalRandom.current().nextLong()).array());
        int port;
        try (DatagramSocket probe = new DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        Path state = Files.createDirectories(dir.resolve("state"));
        Path chassis = dir.resolve("chassis.sh");
        Files.writeString(chassis, """
                #!/bin/sh
                # ipmi_sim chassis_control: ADDR get PARAM... | ADDR set PARAM VALUE...
                state=%s
                addr=$1; op=$2; shift 2
                echo "$op $*" >> $state/calls
                if [ "$op" = get ]; then
                  for p in "$@"; do
                    case $p in
                      power) echo "power:$(cat $state/power 2>/dev/null || echo 0)" ;;
                      boot) echo "boot:$(cat $state/boot 2>/dev/null || echo default)" ;;
                    esac
                  done
                else
                  while [ $# -gt 0 ]; do
                    case $1 in
                      power) echo $2 > $state/power ;;
                      boot) echo $2 > $state/boot ;;
                      reset) echo 1 > $state/power ;;
                      shutdown) echo 0 > $state/power ;;
                    esac
                    shift 2
                  done
                fi
                """.formatted(state));
        Files.setPosixFilePermissions(chassis, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("lan.conf"), """
                name "metalgate-test"
                set_working_mc 0x20
                  startlan 1
                    addr %s %d
                    priv_limit admin
                    allowed_auths_callback none md2 md5 straight
                    allowed_auths_user none md2 md5 straight
                    allowed_auths_operator none md2 md5 straight
                    allowed_auths_admin none md2 md5 straight
                    guid %s
                  endlan
                  chassis_control "%s 0x20"
                user 2 true "%s" "%s" admin 10 none md2 md5 straight
                user 3 true "%s" "%s" operator 10 none md2 md5 straight
                user 4 true "%s" "%s" user 10 none md2 md5 straight
                """.formatted(host, port, guid, chassis, user, password, OPERATOR, OPERATOR_PASSWORD, VIEWER, VIEWER_PASSWORD));
        Files.writeString(dir.resolve("bmc.emu"), """
                mc_setbmc 0x20
                mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
                sel_enable 0x20 1000 0x0a
                %s
                mc_enable 0x20
                """.formatted(emuCommands));
        Process p = new ProcessBuilder(List.of("ipmi_sim", "-c", dir.resolve("lan.conf").toString(), "-f", dir.resolve("bmc.emu").toString(),
                "-s", Files.createDirectories(dir.resolve("sim")).toString(), "-n")).redirectErrorStream(true)
                .redirectOutput(dir.resolve("ipmi_sim.log").toFile()).start();
        IpmiSimProcess sim = new IpmiSimProcess(dir, host, port, p);
        // ready when ipmitool gets an answer
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("ipmi_sim exited: " + Files.readString(dir.resolve("ipmi_sim.log")));
            }
            if (sim.ipmitool(3, user, password, "mc", "info").exitCode() == 0) {
                return sim;
            }
            if (System.nanoTime() > deadline) {
                sim.close();
                throw new IllegalStateException("ipmi_sim did not answer within 15 s");
            }
            Thread.sleep(100);
        }
    }

    /** What one run of a command printed and how it ended. */
    public record Run(int exitCode, String output) {
    }

    /** Runs the real ipmitool against this BMC. */
    public Run ipmitool(int suite, String user, String password, String... args) throws IOException, InterruptedException {
        return IpmiTool.run(host, port, suite, user, password, args);
    }

    /** The power state the BMC last set through chassis_control ("0" or "1"). */
    public String power() throws IOException {
        Path f = dir.resolve("state/power");
        return Files.exists(f) ? Files.readString(f).strip() : "0";
    }

    public String bootDevice() throws IOException {
        Path f = dir.resolve("state/boot");
        return Files.exists(f) ? Files.readString(f).strip() : "default";
    }

    public List<String> chassisCalls() throws IOException {
        Path f = dir.resolve("state/calls");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
