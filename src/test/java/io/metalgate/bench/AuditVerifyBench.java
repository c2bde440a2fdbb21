package io.metalgate.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.evidence.AuditExportFixture;
import io.metalgate.evidence.AuditVerifier;
import io.metalgate.evidence.SigningKeys;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Offline verification of a 1,000,000-entry export (one signed checkpoint per 1,000 entries, as the
 * appliance writes them), timed end to end from reading the file to the verdict. Target: under 10 s.
 */
@Tag("bench")
class AuditVerifyBench {

    @Test
    void verifyAMillionEntryExport() throws Exception {
        int entries = Integer.getInteger("bench.verify.entries", 1_000_000);
        Path file = Path.of("target", "bench-export-" + entries + ".jsonl");
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            AuditExportFixture.write(entries, 1000, SigningKeys.generate(), line -> {
                w.write(line);
                w.write('\n');
            });
        }
        // Let the 400 MB just written reach the disk first: write-back would otherwise eat the first run's CPU.
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            AuditVerifier.Result r;
            try (var in = new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8)) {
                r = new AuditVerifier(AuditVerifier.Trust.fileKey()).verify(in);
            }
            seconds.add((System.nanoTime() - t0) / 1e9);
            assertTrue(r.ok(), r.message());
        }
        // As an auditor runs it: a fresh JVM, `java -jar quarkus-run.jar audit verify FILE` (needs a package build).
        List<Double> cli = new ArrayList<>();
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar");
        if (Files.exists(jar)) {
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                        jar.toString(), "audit", "verify", file.toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                assertTrue(p.waitFor() == 0, "CLI verify failed");
                cli.add((System.nanoTime() - t0) / 1e9);
            }
        }
        String line = String.format("%s audit-verify entries=%d size=%dMB in-process-seconds=%s cli-seconds=%s%n", Instant.now(),
                entries, Files.size(file) >> 20, seconds.stream().map(s -> String.format("%.2f", s)).toList(),
                cli.stream().map(s -> String.format("%.2f", s)).toList());
        System.out.print(line);
        Files.writeString(Path.of("target", "bench-results.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (!Boolean.getBoolean("bench.keep")) {
            Files.delete(file);
        }
    }
}
