package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code POST /api/redfish-events/{machine}}: where BMCs push their events. BMCs cannot hold an API token,
 * so the endpoint is open, and each event must carry the Context this appliance gave that machine's
 * subscription (a keyed tag); anything else is refused 403. An accepted event only makes the appliance ask
 * the BMC again.
 */
@Path("/api/redfish-events/{machine}")
@Tag(name = "hardware")
public class RedfishEventResource {

    @Inject
    PowerEvents events;

    @POST
    @PermitAll
    @Consumes({MediaType.APPLICATION_JSON, MediaType.WILDCARD})
    @Operation(summary = "Receive a Redfish event from a machine's BMC (Context must be the one its subscription was given)")
    public Response event(@PathParam("machine") UUID machine, String body) {
        JsonObject event;
        try {
            event = new JsonObject(body == null || body.isBlank() ? "{}" : body);
        } catch (DecodeException e) {
            throw new ApiException(Problem.of(400, "malformed-event", "Malformed event", "the event is not JSON: " + e.getMessage()));
        }
        if (!events.received(machine, Optional.ofNullable(event.getString("Context")))) {
            throw new ApiException(Problem.of(403, "unknown-event-context", "Unknown event context",
                    "this event's Context was not issued by this appliance for machine " + machine));
        }
        return Response.noContent().build();
    }
}
