package io.metalgate.appliance;

import io.metalgate.evidence.AuditCli;
import io.quarkus.runtime.Application;
import io.quarkus.runtime.Quarkus;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The appliance's entry point, set by {@code quarkus.package.main-class} (not {@code @QuarkusMain}: with
 * that annotation Camel Quarkus would not start its context by itself, in tests neither).
 *
 * <ul>
 * <li>{@code metalgate audit verify FILE [--key FINGERPRINT|PEM] [--witness HEADS] ...}: checks an audit export
 * offline against a trust anchor (and witnesses); starts
 * neither Quarkus nor a database.</li>
 * <li>{@code metalgate [--port PORT] [--data-dir DIR]}: runs the appliance ({@link CommandLine}; an
 * unknown argument prints the usage and exits with 2 before anything starts). With no {@code quarkus.datasource.reactive.url} configured it first
 * starts the embedded PostgreSQL in {@code <metalgate.data-dir>/postgres} and hands its URLs and
 * credentials to Quarkus as system properties; the database is stopped after Quarkus has shut down.</li>
 * </ul>
 */
public final class MetalgateMain {

    private MetalgateMain() {
    }

    public static void main(String... args) {
        if (args.length > 0 && "audit".equals(args[0])) {
            System.exit(AuditCli.run(args));
        }
        if (args.length > 0 && "certificate".equals(args[0])) {
            System.exit(io.metalgate.evidence.CertificateCli.run(args));
        }
        CommandLine.Options options;
        try {
            options = CommandLine.parse(args);
        } catch (CommandLine.UsageException e) {
            System.err.println("metalgate: " + e.getMessage());
            System.err.print(CommandLine.USAGE);
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.print(CommandLine.USAGE);
            System.exit(0);
        }
        options.systemProperties().forEach(System::setProperty);
        SmallRyeConfig config = bootConfig();
        EmbeddedPostgres embedded = null;
        if (config.getOptionalValue("quarkus.datasource.reactive.url", String.class).isEmpty()) {
            Path dataDir = Path.of(config.getOptionalValue("metalgate.data-dir", String.class).orElse("./metalgate-data"));
            Optional<Path> binDir = config.getOptionalValue("metalgate.database.embedded.bin-dir", String.class).map(Path::of);
            embedded = EmbeddedPostgres.start(new EmbeddedPostgres.Options(dataDir, binDir, false));
            embedded.quarkusProperties().forEach(System::setProperty);
        }
        EmbeddedPostgres database = embedded;
        if (database != null) {
            // On SIGTERM (or System.exit after a failed start) Quarkus stops in its own shutdown hook, and
            // the finally block below may never run. This hook waits until the application has stopped
            // (its pools closed), then stops PostgreSQL, so the database never outlives the appliance.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (applicationRunning() && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                database.close();
            }, "metalgate-embedded-postgres-stop"));
        }
        try {
            Quarkus.run(); // the arguments were metalgate's: none is for Quarkus or Camel
        } finally {
            if (database != null) {
                database.close();
            }
        }
    }

    private static boolean applicationRunning() {
        Application app = Application.currentApplication();
        return app != null && app.isStarted();
    }

    /**
     * The configuration as Quarkus will see it (system properties, environment, application.properties
     * in the jar and in ./config), read before Quarkus starts so that we know whether to start the
     * embedded database.
     */
    static SmallRyeConfig bootConfig() {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder().addDefaultSources().addDefaultInterceptors()
                .withProfile(System.getProperty("quarkus.profile", Optional.ofNullable(System.getenv("QUARKUS_PROFILE")).orElse("prod")));
        try {
            URL inJar = MetalgateMain.class.getClassLoader().getResource("application.properties");
            if (inJar != null) {
                builder.withSources(new PropertiesConfigSource(inJar, 250));
            }
            Path local = Path.of("config", "application.properties");
            if (Files.isRegularFile(local)) {
                builder.withSources(new PropertiesConfigSource(local.toUri().toURL(), 260));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read application.properties: " + e.getMessage(), e);
        }
        return builder.build();
    }
}
