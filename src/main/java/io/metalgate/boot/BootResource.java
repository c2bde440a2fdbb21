package io.metalgate.boot;

import io.metalgate.security.Roles;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * What network-booting machines ask for: {@code GET /boot/ipxe?mac=${net0/mac}} (their iPXE script, chained by the
 * iPXE binary that TFTP served), and the MACs of no machine that asked ({@code GET /api/boot/unknown-macs}). The
 * agent's kernel and initramfs are served with range support by {@link AgentFiles}.
 */
@Tag(name = "boot")
@Path("/")
public class BootResource {

    @Inject
    BootService boot;

    @GET
    @Path("boot/ipxe")
    @PermitAll
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(summary = "The iPXE script of the machine with this MAC: the erase agent if it is ERASING, else its local disk")
    public Uni<String> script(@QueryParam("mac") String mac, @Context HttpServerRequest request, @Context UriInfo uri) {
        String base = uri.getBaseUri().toString().replaceAll("/+$", "");
        return boot.script(mac, request.remoteAddress() == null ? null : request.remoteAddress().hostAddress(), base);
    }

    @GET
    @Path("api/boot/agent")
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The erase agent the appliance serves: its directory, the SHA-256 of its kernel and initramfs, the kernel "
            + "release, or the problem when none is built")
    public BootService.AgentStatus agent() {
        return boot.agentStatus();
    }

    @GET
    @Path("api/boot/unknown-macs")
    @RolesAllowed(Roles.VIEWER)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "MACs that asked for a boot script and belong to no machine (newest first): machines to enrol")
    public Uni<List<BootService.UnknownMac>> unknownMacs(@QueryParam("limit") @DefaultValue("100") int limit) {
        return boot.unknownMacs(Math.max(1, Math.min(limit, 1000)));
    }
}
