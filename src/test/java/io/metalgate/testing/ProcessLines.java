package io.metalgate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** What a process the tests started prints, line by line, read in the background as it comes. */
public final class ProcessLines {

    private ProcessLines() {
    }

    /** A live list of the process's output lines (stdout, and stderr when redirected into it). */
    public static List<String> collect(Process p) {
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "output-of-" + p.pid());
        reader.setDaemon(true);
        reader.start();
        return output;
    }
}
