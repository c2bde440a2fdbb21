package io.metalgate.integration;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.Problem;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.PermitAll;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.logging.Logger;

/**
 * The signed webhook endpoints, one per integration. Billing and ticketing systems sign rather than log
 * in, so the signature is the authentication: a request without a valid one (wrong secret, changed
 * body, timestamp outside the replay window) is refused 401 and not stored: it is not an event from the
 * integration, and keeping anonymous bodies would let anyone fill the database. Its sender keeps it and
 * retries, as webhook senders do; the refusal is logged (without the body) and counted
 * ({@code metalgate_webhook_refused_total}). A signed request goes through the intake, where it is
 * stored or kept as a dead letter.
 */
@Path(WebhookResource.PATH)
@Tag(name = "integrations")
public class WebhookResource {

    static final String PATH = "/api/integrations/webhooks";
    private static final Logger LOG = Logger.getLogger(WebhookResource.class);
    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Integrations integrations;
    @Inject
    ProducerTemplate camel;
    @Inject
    ObjectMapper mapper;
    @Inject
    MeterRegistry metrics;

    @POST
    @Path("{name}")
    @Blocking
    @PermitAll
    @Consumes(MediaType.WILDCARD)
    @Produces({ MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE })
    @Operation(summary = "Receive a signed webhook of an integration (header t=...,v1=HMAC-SHA256 of \"t.body\"; or Zendesk's scheme)")
    @APIResponse(responseCode = "202", description = "stored and applied")
    @APIResponse(responseCode = "200", description = "a repeat of a stored event")
    @APIResponse(responseCode = "400", description = "not an event (kept as a dead letter)")
    @APIResponse(responseCode = "401", description = "no valid signature (not stored)")
    @APIResponse(responseCode = "404", description = "no such integration, or disabled")
    @APIResponse(responseCode = "409", description = "the lease's state does not accept it, or its id was used for other content")
    @APIResponse(responseCode = "422", description = "unknown lease (stored)")
    @APIResponse(responseCode = "503", description = "could not be processed now (kept as a dead letter); send again")
    public Response receive(@PathParam("name") String name, @Context HttpHeaders headers, byte[] body) {
        String path = PATH + "/" + name;
        var hook = integrations.webhook(name).await().atMost(LOOKUP_TIMEOUT).filter(Integrations.Webhook::enabled).orElse(null);
        if (hook == null) {
            return problem(Problem.of(404, "not-found", "Not found", "no enabled integration " + name).withInstance(path));
        }
        byte[] raw = body == null ? new byte[0] : body;
        var refusal = hook.signatureScheme() == Integrations.Scheme.ZENDESK
                ? WebhookSignature.zendeskRefusal(headers.getHeaderString(hook.signatureHeader()), headers.getHeaderString(hook.signatureHeader()
                        + "-Timestamp"), hook.secret(), raw, Instant.now(), hook.tolerance())
                : WebhookSignature.refusal(headers.getHeaderString(hook.signatureHeader()), hook.secret(), raw, Instant.now(), hook.tolerance());
        if (refusal.isPresent()) {
            metrics.counter("metalgate_webhook_refused", "integration", name).increment();
            LOG.warnf("webhook %s refused: %s (%d bytes, not stored)", name, refusal.get(), raw.length);
            return problem(Problem.of(401, "signature", "Signature refused", refusal.get() + "; header " + hook.signatureHeader())
                    .withInstance(path));
        }
        Exchange reply = camel.request(WebhookRoutes.WEBHOOK_INTAKE, ex -> {
            ex.getMessage().setBody(new String(raw, StandardCharsets.UTF_8));
            ex.getMessage().setHeaders(new java.util.HashMap<>(Map.of(LeaseEventRoutes.ACTOR, "integration:" + name,
                    LeaseEventRoutes.CHANNEL, "webhook:" + name, WebhookRoutes.INTEGRATION, name)));
            if (hook.mapping() != null) {
                ex.getMessage().setHeader(WebhookRoutes.MAPPING, hook.mapping());
            }
        });
        return IntakeAnswers.http(reply, path, mapper);
    }

    private static Response problem(Problem p) {
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(p).build();
    }
}
