package io.metalgate.evidence;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code metalgate audit verify FILE [--key FINGERPRINT]}. Exit codes: 0 the export is intact, 1 it is
 * not (the message names the first bad entry), 2 the command was used wrongly or the file cannot be read.
 */
public final class AuditCli {

    private AuditCli() {
    }

    public static int run(String... args) {
        return run(args, System.out, System.err);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 3 || !"audit".equals(args[0]) || !"verify".equals(args[1])) {
            err.println("usage: metalgate audit verify FILE [--key SHA256-FINGERPRINT]");
            return 2;
        }
        Optional<String> key = Optional.empty();
        for (int i = 3; i < args.length; i++) {
            if ("--key".equals(args[i]) && i + 1 < args.length) {
                key = Optional.of(args[++i]);
            } else {
                err.println("unknown option " + args[i]);
                return 2;
            }
        }
        Path file = Path.of(args[2]);
        // Malformed UTF-8 decodes to U+FFFD, which then fails the entry's hash: the message names the entry.
        try (Reader reader = new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8)) {
            AuditVerifier.Result result = new AuditVerifier(key).verify(reader);
            (result.ok() ? out : err).println(result.message());
            return result.ok() ? 0 : 1;
        } catch (NoSuchFileException e) {
            err.println("no such file: " + file);
            return 2;
        } catch (IOException e) {
            err.println("cannot read " + file + ": " + e.getMessage());
            return 2;
        }
    }
}
