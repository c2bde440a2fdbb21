package io.metalgate.conductor;

import io.metalgate.security.Roles;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code GET /api/machines/{id}/erase-certificates}: the signed erase certificates of a machine, oldest first. */
@Path("/api/machines/{id}/erase-certificates")
@Tag(name = "evidence")
public class CertificateResource {

    @Inject
    EraseReports reports;
    @Inject
    Pool pool;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The machine's erase certificates: each body (canonical JSON, what was signed), its Ed25519 signature and the key")
    public Uni<List<EraseReports.Certificate>> list(@PathParam("id") UUID id) {
        return reports.certificates(pool, id);
    }
}
