package io.metalgate.integration;

import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The HTTP channel of lease events (billing / ticketing webhooks, usually with an API token). The body
 * is handed as it came to the Camel intake route, which owns parsing, idempotency and dead letters; this
 * resource only authenticates and authorises, like every other endpoint.
 */
@Path(LeaseEventResource.PATH)
@Tag(name = "integrations")
public class LeaseEventResource {

    static final String PATH = "/api/integrations/lease-events";

    @Inject
    ProducerTemplate camel;
    @Inject
    SecurityIdentity identity;
    @Inject
    com.fasterxml.jackson.databind.ObjectMapper mapper;

    @POST
    @Blocking
    @RolesAllowed(Roles.BILLING)
    @Consumes(MediaType.WILDCARD)
    @Produces({ MediaType.APPLICATION_JSON, "application/problem+json" })
    @Operation(summary = "Receive a lease event: {source, externalId, type, leaseRef, occurredAt?, details?}")
    public Response receive(String body) {
        Exchange reply = camel.request(LeaseEventRoutes.INTAKE, ex -> {
            ex.getMessage().setBody(body == null ? "" : body);
            ex.getMessage().setHeaders(Map.of(LeaseEventRoutes.ACTOR, identity.getPrincipal().getName(),
                    LeaseEventRoutes.CHANNEL, "http"));
        });
        return IntakeAnswers.http(reply, PATH, mapper);
    }
}
