package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.QueryParams;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.gate.Action;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.Locale;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The BMC operations an operator asks for by name, each decided by the gate and carried out by the conductor
 * as an intent (recorded and audited before the BMC is driven, its outcome audited after): power on, off
 * (forced or graceful), cycle and warm reset; the boot override (read with its entity tag, set with If-Match);
 * virtual media. A BMC-side secure erase is not here: it is a step of the erase flow only.
 */
@Path("/api/machines/{id}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "gate")
public class MachineBmcResource {

    /** How an operator asks for the power: {@code on}, {@code off} (forced), {@code graceful_off}, {@code cycle}, {@code reset}. */
    public enum PowerRequest {
        ON, OFF, GRACEFUL_OFF, CYCLE, RESET
    }

    /**
     * @param tenantRequestId a confirmed tenant request for this action (POWER_OFF, POWER_CYCLE or BOOT_EXTERNAL)
     * @param emergencyReason an approver's emergency override, with its reason
     */
    public record PowerBody(@NotNull String action, UUID requestId, UUID tenantRequestId, @Size(max = 2000) String emergencyReason) {
    }

    /**
     * @param requestId an approved action request for this boot (a rescue on a tenant's data: asked by one person, carried
     *                  out with the emergency reason by an approver who is not them)
     */
    public record BootBody(@NotNull BootOverride.Device device, Boolean persistent, BootOverride.Mode mode, UUID requestId,
            UUID tenantRequestId, @Size(max = 2000) String emergencyReason) {
    }

    /** @param requestId as for {@link BootBody} */
    public record MediaBody(@NotBlank @Size(max = 2000) String imageUrl, UUID requestId, UUID tenantRequestId,
            @Size(max = 2000) String emergencyReason) {
    }

    public record EjectBody(UUID tenantRequestId) {
    }

    /** The boot override as the BMC reports it, with the tag to pass as If-Match when changing it. */
    public record BootView(BootOverride.Device device, boolean persistent, BootOverride.Mode mode, String etag) {
    }

    @Inject
    ActionService actions;
    @Inject
    BmcOperations operations;
    @Inject
    SecurityIdentity identity;

    @POST
    @Path("/power")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @Operation(summary = "Power on, off (forced), graceful_off, cycle or reset, through the gate (off and graceful_off as POWER_OFF, cycle "
            + "and reset as POWER_CYCLE, on as POWER_ON); 409 lists every reason of a refusal, 502/504 a BMC that failed")
    public Uni<ActionService.ActionResult> power(@PathParam("id") UUID id, @Valid @NotNull PowerBody body) {
        PowerRequest p = QueryParams.enumValue(PowerRequest.class, body.action(), "action");
        if (p == null) {
            throw ApiException.badRequest("action", "one of on, off, graceful_off, cycle, reset");
        }
        var op = switch (p) {
            case ON -> BmcIntents.Operation.POWER_ON;
            case OFF -> BmcIntents.Operation.POWER_OFF;
            case GRACEFUL_OFF -> BmcIntents.Operation.GRACEFUL_OFF;
            case CYCLE -> BmcIntents.Operation.POWER_CYCLE;
            case RESET -> BmcIntents.Operation.RESET;
        };
        Action action = switch (p) {
            case ON -> Action.POWER_ON;
            case OFF, GRACEFUL_OFF -> Action.POWER_OFF;
            case CYCLE, RESET -> Action.POWER_CYCLE;
        };
        return act(id, action, body.requestId(), body.tenantRequestId(), body.emergencyReason(),
                new ActionService.BmcRequest(op, BmcOperations.Params.NONE));
    }

    @GET
    @Path("/boot-device")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @Operation(summary = "The boot override the BMC reports now; its ETag is what PUT takes as If-Match")
    public Uni<Response> bootDevice(@PathParam("id") UUID id) {
        return operations.bootDevice(id).map(o -> {
            String etag = BmcOperations.etag(o);
            return Response.ok(new BootView(o.device(), o.persistent(), o.mode(), etag)).header("ETag", etag).build();
        });
    }

    @PUT
    @Path("/boot-device")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @Operation(summary = "Set the boot override (once unless persistent; UEFI unless mode LEGACY): disk or none as BOOT_LOCAL, a network "
            + "or CD boot as BOOT_EXTERNAL; with If-Match, 412 when the BMC's override changed since it was read")
    public Uni<ActionService.ActionResult> setBootDevice(@PathParam("id") UUID id, @HeaderParam("If-Match") String ifMatch,
            @Valid @NotNull BootBody body) {
        if (ifMatch != null && (ifMatch.length() > 100 || ifMatch.equals("*"))) {
            throw ApiException.badRequest("If-Match", "an entity tag from GET /api/machines/" + id + "/boot-device");
        }
        BootOverride o = new BootOverride(body.device(), Boolean.TRUE.equals(body.persistent()),
                body.mode() == null ? BootOverride.Mode.UEFI : body.mode());
        boolean local = o.device() == BootOverride.Device.DISK || o.device() == BootOverride.Device.NONE;
        if (!local && o.persistent()) {
            // a standing network or CD boot would run whatever that medium holds at every reboot, under a later tenant's data too
            throw ApiException.badRequest("persistent", "a " + o.device() + " boot is for the next boot only");
        }
        return act(id, local ? Action.BOOT_LOCAL : Action.BOOT_EXTERNAL, body.requestId(), body.tenantRequestId(), body.emergencyReason(),
                new ActionService.BmcRequest(BmcIntents.Operation.SET_BOOT, new BmcOperations.Params(o, ifMatch, null)));
    }

    @POST
    @Path("/virtual-media")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @Operation(summary = "Insert a CD/DVD image the BMC fetches (http or https, no credentials in the URL) as BOOT_EXTERNAL")
    public Uni<ActionService.ActionResult> insert(@PathParam("id") UUID id, @Valid @NotNull MediaBody body) {
        String url = imageUrl(body.imageUrl());
        return act(id, Action.BOOT_EXTERNAL, body.requestId(), body.tenantRequestId(), body.emergencyReason(),
                new ActionService.BmcRequest(BmcIntents.Operation.MEDIA_INSERT, new BmcOperations.Params(null, null, url)));
    }

    @DELETE
    @Path("/virtual-media")
    @RolesAllowed({ Roles.OPERATOR, Roles.APPROVER })
    @Operation(summary = "Eject every virtual CD/DVD (BOOT_LOCAL)")
    public Uni<ActionService.ActionResult> eject(@PathParam("id") UUID id) {
        return act(id, Action.BOOT_LOCAL, null, null, null, new ActionService.BmcRequest(BmcIntents.Operation.MEDIA_EJECT,
                BmcOperations.Params.NONE));
    }

    private Uni<ActionService.ActionResult> act(UUID id, Action action, UUID requestId, UUID tenantRequestId, String emergencyReason,
            ActionService.BmcRequest bmc) {
        return actions.execute(id, action, new ActionService.ActionInput(requestId, tenantRequestId, emergencyReason, bmc),
                Actors.person(identity), identity.getRoles());
    }

    /**
     * An image the BMC can fetch: http or https with a host. Credentials in the URL are refused: the URL is kept in
     * the audit log and the intent, where no secret goes.
     */
    static String imageUrl(String given) {
        URI u;
        try {
            u = new URI(given.strip());
        } catch (java.net.URISyntaxException e) {
            throw ApiException.badRequest("imageUrl", "not a URL: " + e.getReason());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null) {
            throw ApiException.badRequest("imageUrl", "an http or https URL with a host, which the BMC fetches");
        }
        if (u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
            // a signed (presigned) URL's query is a credential too
            throw ApiException.badRequest("imageUrl", "credentials, a query or a fragment in the URL would be kept in the audit log: serve the "
                    + "image at a plain URL");
        }
        return u.toString();
    }
}
