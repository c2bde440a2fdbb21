package io.metalgate.conductor;

import io.metalgate.security.Roles;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.QueryParam;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.TreeMap;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code POST /api/power-sync}: sweep every BMC now instead of waiting for the next interval. */
@Path("/api/power-sync")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "hardware")
public class PowerSyncResource {

    /** How a sweep went: machines asked, how many on, off, and failures by kind. */
    public record SweepSummary(int machines, int on, int off, Map<String, Integer> failures, long millis) {
    }

    @Inject
    PowerSync sync;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Operation(summary = "Sweep the power state of every machine now; results are stored with each machine")
    public Uni<SweepSummary> sweep(@QueryParam("machine") List<UUID> machines) {
        long t0 = System.nanoTime();
        return sync.sync(machines == null ? List.of() : machines).map(obs -> {
            Map<String, Integer> failures = new TreeMap<>();
            int on = 0;
            int off = 0;
            for (var o : obs) {
                if (!o.ok()) {
                    failures.merge(o.error().kind().name(), 1, Integer::sum);
                } else if (o.state() == io.metalgate.driver.api.PowerState.ON) {
                    on++;
                } else {
                    off++;
                }
            }
            return new SweepSummary(obs.size(), on, off, failures, (System.nanoTime() - t0) / 1_000_000);
        });
    }
}
