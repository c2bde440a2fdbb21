package io.metalgate.conductor;

import io.metalgate.security.Roles;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code GET /api/machines/{id}/erase-certificates}: the signed erase certificates of a machine, oldest first; and
 * {@code /{certificateId}}: one, as the file {@code certificate verify} checks (JSON, the default) or as a printable
 * page ({@code Accept: text/html}).
 */
@Path("/api/machines/{id}/erase-certificates")
@Tag(name = "evidence")
public class CertificateResource {

    /** The printable page: {@code templates/CertificateResource/certificate.html}, HTML-escaped by Qute. */
    @CheckedTemplate
    static class Templates {
        static native TemplateInstance certificate(CertificatePage page);
    }

    @Inject
    EraseReports reports;
    @Inject
    Pool pool;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The machine's erase certificates: each body (canonical JSON, what was signed), its signature, the key and the key history")
    public Uni<List<EraseReports.Certificate>> list(@PathParam("id") UUID id) {
        return reports.certificates(pool, id);
    }

    @GET
    @Path("/{certificateId}")
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "One erase certificate, as the file `certificate verify FILE --key FINGERPRINT` checks offline "
            + "(Accept: text/html for the printable page)")
    public Uni<Response> one(@PathParam("id") UUID id, @PathParam("certificateId") UUID certificateId) {
        return reports.certificate(pool, id, certificateId).map(c -> Response.ok(c)
                .header("Content-Disposition", "attachment; filename=\"erase-certificate-" + c.id() + ".json\"").build());
    }

    @GET
    @Path("/{certificateId}")
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.TEXT_HTML)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "An erase certificate as a printable HTML page")
    public Uni<String> page(@PathParam("id") UUID id, @PathParam("certificateId") UUID certificateId) {
        return reports.certificate(pool, id, certificateId).chain(c -> Templates.certificate(CertificatePage.of(c)).createUni());
    }
}
