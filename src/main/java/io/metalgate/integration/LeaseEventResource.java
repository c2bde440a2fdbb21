package io.metalgate.integration;

import java.util.ArrayList;
import java.util.List;

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
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "202", description = "stored and applied")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "200", description = "a repeat: what became of the first copy")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "422", description = "stored; its lease is unknown")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "503", description = "not even a dead letter could be written: send it again (Retry-After)")
    public Response receive(String body) {
        Exchange reply = camel.request(LeaseEventRoutes.INTAKE, ex -> {
            ex.getMessage().setBody(body == null ? "" : body);
            ex.getMessage().setHeaders(Map.of(LeaseEventRoutes.ACTOR, identity.getPrincipal().getName(),
                    LeaseEventRoutes.CHANNEL, "http"));
        });
        return IntakeAnswers.http(reply, PATH, mapper);
    }

    /** The most events one batch request may carry. */
    static final int MAX_BATCH = 1000;

    @Inject
    MessageBatches batches;

    /**
     * Many lease events in one request (a billing system catching up, an export replayed): the plain lease events are
     * settled together in one transaction ({@link BatchIntake}), the others one by one through the intake route, each
     * with the answer it would have had alone. 200 with one entry per event, in order; a body that is not a JSON array
     * of at most {@value #MAX_BATCH} elements is refused whole (400, nothing kept) so the sender sends it again whole.
     * An element that is not a valid event is a dead letter with its reason, like a single one.
     */
    @POST
    @Path("/batch")
    @Blocking
    @RolesAllowed(Roles.BILLING)
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({ MediaType.APPLICATION_JSON, "application/problem+json" })
    @Operation(summary = "Receive up to 1,000 lease events in order; one result per event")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "200", description = "one result per event, in order")
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "503", description = "not even a dead letter could be written: send the batch again")
    public Response receiveBatch(String body) {
        com.fasterxml.jackson.databind.JsonNode array;
        try {
            array = mapper.readTree(body == null ? "" : body);
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            throw new io.metalgate.common.ApiException(io.metalgate.common.ProblemMappers.malformedProblem(e));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw io.metalgate.common.ApiException.badRequest("body", "not JSON: " + e.getOriginalMessage());
        }
        if (array == null || !array.isArray()) {
            throw io.metalgate.common.ApiException.badRequest("body", "a JSON array of lease events is required");
        }
        if (array.size() > MAX_BATCH) {
            throw io.metalgate.common.ApiException.badRequest("body", "at most " + MAX_BATCH + " events per request (" + array.size() + " sent)");
        }
        String actor = identity.getPrincipal().getName();
        List<String> raws = new ArrayList<>();
        array.forEach(n -> raws.add(n.toString()));
        MessageBatches.Taken taken = batches.take(raws, actor, "http");
        if (taken.refused() != null) {
            // not even a dead letter: the whole request is answered 503, and what was settled is found stored when sent again
            return IntakeAnswers.http(taken.refused(), PATH + "/batch", mapper);
        }
        IntakeResult[] results = taken.results();
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < results.length; i++) {
            items.add(IntakeAnswers.item(i, results[i], mapper));
        }
        return Response.ok(Map.of("results", items)).type(MediaType.APPLICATION_JSON).build();
    }
}
