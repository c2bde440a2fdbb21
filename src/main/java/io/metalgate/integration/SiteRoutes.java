package io.metalgate.integration;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.RoutesLoader;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

/**
 * Site-specific Camel routes in YAML DSL, from the directory {@code metalgate.integrations.dir} ({@code *.yaml},
 * in name order), loaded once the core routes run: a site polls its billing system, reshapes a broker's messages,
 * and hands lease events to {@code direct:lease-event-intake} like any channel. Which files were loaded, with their
 * SHA-256, is audited ({@code integration.site-routes-loaded}): the evidence says which site code ran. A file that
 * does not load leaves the appliance running (the gate does not depend on it) but not ready: readiness check
 * {@code site-routes} is DOWN naming the file and the error, so the NOC sees it at once.
 */
@ApplicationScoped
@Readiness
public class SiteRoutes implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(SiteRoutes.class);

    @Inject
    MetalgateConfig config;
    @Inject
    CamelContext camel;
    @Inject
    AuditLog audit;

    private volatile Map<String, String> loaded = Map.of();
    private volatile Map<String, String> failed = Map.of();

    void load(@Observes StartupEvent start) {
        if (config.integrations().dir().isEmpty()) {
            return;
        }
        Path dir = Path.of(config.integrations().dir().get());
        Map<String, String> ok = new LinkedHashMap<>();
        Map<String, String> bad = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.filter(p -> p.getFileName().toString().endsWith(".yaml") && Files.isRegularFile(p)).sorted().forEach(files::add);
        } catch (IOException e) {
            bad.put(dir.toString(), "cannot list the directory: " + e.getMessage());
        }
        RoutesLoader loader = PluginHelper.getRoutesLoader(camel);
        for (Path file : files) {
            try {
                String sha = AuditHashes.sha256Hex(Files.readString(file));
                Resource resource = ResourceHelper.resolveMandatoryResource(camel, "file:" + file.toAbsolutePath());
                java.util.Set<String> before = new java.util.HashSet<>();
                camel.getRoutes().forEach(r -> before.add(r.getRouteId()));
                loader.loadRoutes(resource);
                List<String> added = new ArrayList<>();
                for (var r : camel.getRoutes()) {
                    if (!before.contains(r.getRouteId())) {
                        added.add(r.getRouteId() + " (" + camel.getRouteController().getRouteStatus(r.getRouteId()) + ")");
                    }
                }
                ok.put(file.getFileName().toString(), sha);
                LOG.infof("site routes loaded from %s (sha256 %s): %s", file, sha, added);
            } catch (Exception e) {
                String why = e.getClass().getSimpleName() + ": " + e.getMessage();
                bad.put(file.getFileName().toString(), why);
                LOG.errorf("site routes in %s did not load: %s", file, why);
            }
        }
        loaded = Map.copyOf(ok);
        failed = Map.copyOf(bad);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("dir", dir.toString());
        payload.put("loaded", ok);
        payload.put("failed", bad);
        audit.append("metalgate", "integration.site-routes-loaded", "integration:site-routes", payload).subscribe().with(v -> {
        }, e -> LOG.errorf("auditing the site routes failed: %s", e.toString()));
    }

    @Override
    public HealthCheckResponse call() {
        var r = HealthCheckResponse.named("site-routes").status(failed.isEmpty());
        loaded.forEach((file, sha) -> r.withData(file, "loaded, sha256 " + sha));
        failed.forEach((file, why) -> r.withData(file, "FAILED: " + why));
        return r.build();
    }
}
