package io.metalgate.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A BMC emulator from redfish-mocks/target/redfish-mocks.jar (bench/run.sh builds it) in a process of its
 * own, as benchmarks need it: started, and returned once it printed its ready line.
 */
final class EmulatorProcess {

    private EmulatorProcess() {
    }

    /** Runs {@code java -Xmx… -cp redfish-mocks.jar mainClass args…}; waits for a first line starting {@code readyPrefix}. */
    static Process start(String heap, String mainClass, String readyPrefix, String... args) throws Exception {
        Path jar = Path.of("redfish-mocks", "target", "redfish-mocks.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run ./mvnw -f redfish-mocks/pom.xml package (bench/run.sh does)");
        }
        List<String> cmd = new ArrayList<>(List.of("java", "-Xmx" + heap, "-cp", jar.toString(), mainClass));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String ready = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        if (ready == null || !ready.startsWith(readyPrefix)) {
            p.destroyForcibly();
            throw new IllegalStateException("the emulator did not start: " + ready);
        }
        return p;
    }

    /** A port free right now, for TCP ({@code udp} false) or UDP. */
    static int freePort(boolean udp) throws Exception {
        if (udp) {
            try (var s = new java.net.DatagramSocket(0)) {
                return s.getLocalPort();
            }
        }
        try (var s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
