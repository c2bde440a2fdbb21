package io.metalgate.appliance;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The appliance's own command line, parsed before anything starts: an unknown argument is a usage error
 * (exit 2), not something for Quarkus or Camel to guess at.
 */
public final class CommandLine {

    public static final String USAGE = """
            usage: metalgate [--port PORT] [--data-dir DIR]
                   metalgate audit verify FILE [--key FINGERPRINT|PEM]... [--data-dir DIR] [--trust-file-key]
                   metalgate certificate verify FILE [--key FINGERPRINT|PEM]... [--data-dir DIR]
                                           [--witness HEADS]... [--tsa-cert PEM]...
                   metalgate --help

              --port PORT      HTTP port (default 8080; config quarkus.http.port / QUARKUS_HTTP_PORT)
              --data-dir DIR   data directory: embedded PostgreSQL, admin password, signing key
                               (default ./metalgate-data; config metalgate.data-dir / METALGATE_DATA_DIR)
              --help           this text

            Other configuration: JVM system properties before -jar (java -Dquarkus.http.host=127.0.0.1 -jar ...,
            or ./metalgate run -Dkey=value), environment variables, or config/application.properties.
            """;

    /** What the command line asks for: run (with settings) or show help. */
    public record Options(boolean help, Optional<Integer> port, Optional<Path> dataDir) {

        /** The settings as the configuration keys Quarkus and metalgate read (set as system properties). */
        public Map<String, String> systemProperties() {
            Map<String, String> props = new TreeMap<>();
            port.ifPresent(p -> props.put("quarkus.http.port", String.valueOf(p)));
            dataDir.ifPresent(d -> props.put("metalgate.data-dir", d.toString()));
            return props;
        }
    }

    /** A command line metalgate does not understand; its message says what is wrong. */
    public static final class UsageException extends Exception {

        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message, null, false, false);
        }
    }

    private CommandLine() {
    }

    public static Options parse(String... args) throws UsageException {
        boolean help = false;
        Optional<Integer> port = Optional.empty();
        Optional<Path> dataDir = Optional.empty();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "--help", "-h" -> {
                    if (value != null) {
                        throw new UsageException(name + " takes no value");
                    }
                    help = true;
                }
                case "--port" -> {
                    if (port.isPresent()) {
                        throw new UsageException("--port given twice");
                    }
                    if (value == null) {
                        value = next(args, ++i, name);
                    }
                    port = Optional.of(port(value));
                }
                case "--data-dir" -> {
                    if (dataDir.isPresent()) {
                        throw new UsageException("--data-dir given twice");
                    }
                    if (value == null) {
                        value = next(args, ++i, name);
                    }
                    if (value.isBlank()) {
                        throw new UsageException("--data-dir needs a directory");
                    }
                    dataDir = Optional.of(Path.of(value));
                }
                default -> throw new UsageException(arg.startsWith("-D")
                        ? "unknown argument " + arg + " (a system property goes before -jar: java " + arg + " -jar ...)"
                        : "unknown argument " + arg);
            }
        }
        return new Options(help, port, dataDir);
    }

    private static String next(String[] args, int i, String option) throws UsageException {
        if (i >= args.length) {
            throw new UsageException(option + " needs a value");
        }
        return args[i];
    }

    private static int port(String value) throws UsageException {
        int port;
        try {
            port = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--port needs a number from 1 to 65535, not " + value);
        }
        if (port < 1 || port > 65535) {
            throw new UsageException("--port needs a number from 1 to 65535, not " + value);
        }
        return port;
    }
}
