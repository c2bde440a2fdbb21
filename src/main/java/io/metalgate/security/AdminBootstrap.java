package io.metalgate.security;

import io.metalgate.common.DataDirectory;
import io.metalgate.common.Offload;
import io.metalgate.common.SecretFiles;
import io.metalgate.evidence.AuditLog;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * At the first start (no users yet) creates {@code admin} with a random password, writes it to
 * {@code <data-dir>/admin.password} (0600) and prints it once on standard output. Later starts print
 * only where the file is. The password never goes through the logger.
 */
@ApplicationScoped
public class AdminBootstrap {

    @Inject
    UserStore users;
    @Inject
    AuditLog audit;
    @Inject
    DataDirectory dataDir;

    @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080")
    int port;

    void onStart(@Observes StartupEvent event) throws Throwable {
        Path file = dataDir.root().resolve("admin.password");
        boolean created = VertxContextSupport.subscribeAndAwait(() -> users.count().chain(n -> {
            if (n > 0) {
                return io.smallrye.mutiny.Uni.createFrom().item(false);
            }
            String password = new String(dataDir.secret("admin.password",
                    () -> SecretFiles.randomPassword().getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8).strip();
            return Offload.blocking(() -> PasswordHasher.hash(password))
                    .chain(hash -> Panache.withTransaction(() -> users.insert("admin", hash, Set.of(Roles.ADMIN))
                            .chain(() -> audit.record("system", "user.created", "user:admin",
                                    Map.of("username", "admin", "roles", Set.of(Roles.ADMIN), "reason", "first start")))))
                    .chain(audit::sequenced)
                    .map(v -> {
                        System.out.println("metalgate: created user 'admin' with password " + password
                                + " (also in " + file + ", mode 0600)");
                        return true;
                    });
        }));
        System.out.println("metalgate is running: http://localhost:" + port + "/  (API /api, OpenAPI /q/openapi, "
                + "Swagger UI /q/swagger-ui, health /q/health)" + (created ? "" : "; admin password file: " + file));
    }
}
