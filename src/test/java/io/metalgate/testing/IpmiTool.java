package io.metalgate.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real {@code ipmitool -I lanplus} (Debian package ipmitool), for interop tests and the benchmark baseline. */
public final class IpmiTool {

    private IpmiTool() {
    }

    public static IpmiSimProcess.Run run(String host, int port, int suite, String user, String password, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ipmitool", "-I", "lanplus", "-C", String.valueOf(suite), "-H", host, "-p",
                String.valueOf(port), "-U", user, "-P", password, "-N", "1", "-R", "2"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new IpmiSimProcess.Run(-1, out + "\n(timed out)");
        }
        return new IpmiSimProcess.Run(p.exitValue(), out);
    }
}
