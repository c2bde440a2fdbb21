package io.metalgate.integration;

import io.metalgate.common.Problem;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Pattern;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Dead letters: what arrived and could not be processed, with the reason. Read by operators, legal and
 * billing; replayed only by the billing role (the system of record for contracts, or its people): a
 * replay sends a lease event (which may suspend or end a contract) in that person's name, and operators
 * may not end contracts.
 */
@Path("/api/integrations/dead-letters")
@Tag(name = "integrations")
@Produces({ MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE })
public class DeadLetterResource {

    @Inject
    DeadLetters deadLetters;
    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING, Roles.LEGAL })
    @Operation(summary = "List dead letters, newest first (without their bodies)")
    public Uni<DeadLetters.Page> list(@QueryParam("status") @Pattern(regexp = "OPEN|REPLAYED") String status,
            @QueryParam("channel") String channel, @QueryParam("page") @DefaultValue("0") @Min(0) @Max(100000) int page,
            @QueryParam("size") @DefaultValue("50") @Min(1) @Max(500) int size) {
        return deadLetters.list(status, channel, page, size);
    }

    @GET
    @Path("{id}")
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING, Roles.LEGAL })
    @Operation(summary = "One dead letter with its body as received")
    @APIResponse(responseCode = "200", description = "the dead letter")
    @APIResponse(responseCode = "404", description = "no such dead letter")
    public Uni<DeadLetters.View> get(@PathParam("id") UUID id) {
        return deadLetters.get(id);
    }

    @POST
    @Path("{id}/replay")
    @Blocking
    @RolesAllowed(Roles.BILLING)
    @Operation(summary = "Replay a dead letter through its channel's path, in the caller's name")
    @APIResponse(responseCode = "200", description = "what the replay did: an event (REPLAYED), or the new reason it failed")
    @APIResponse(responseCode = "404", description = "no such dead letter")
    @APIResponse(responseCode = "409", description = "already replayed, or its integration is gone")
    public DeadLetters.Replay replay(@PathParam("id") UUID id) {
        return deadLetters.replay(id, identity.getPrincipal().getName());
    }
}
