package io.metalgate.integration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.common.ProblemMappers;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;

/**
 * A signed webhook's body, once its signature holds ({@link WebhookResource}) or a person replays it
 * ({@link DeadLetters}), becomes a lease event here: the integration's {@link FieldMap} reads it (a
 * payload in metalgate's own shape needs none), its source is always the integration's name (one
 * integration cannot speak for another), and it goes on to the intake route. The body as received
 * travels along ({@link LeaseEventRoutes#RAW}): a dead letter keeps that, so a replay maps it again.
 */
@ApplicationScoped
public class WebhookRoutes extends RouteBuilder {

    public static final String WEBHOOK_INTAKE = "direct:webhook-intake";
    /** Header: the integration's name. */
    public static final String INTEGRATION = "MetalgateIntegration";
    /** Header: the integration's field map (absent: metalgate's own shape). */
    public static final String MAPPING = "MetalgateFieldMap";

    @Inject
    ObjectMapper mapper;

    @Override
    public void configure() {
        from(WEBHOOK_INTAKE).routeId("webhook-intake")
                .onException(RejectedInput.class).handled(true).maximumRedeliveries(0).to(LeaseEventRoutes.DEAD_LETTER).end()
                .convertBodyTo(String.class)
                .setHeader(LeaseEventRoutes.RAW, body())
                .process(this::map).id("webhook-map")
                .to(LeaseEventRoutes.INTAKE);
    }

    private void map(Exchange ex) {
        String name = ex.getMessage().getHeader(INTEGRATION, String.class);
        FieldMap map = ex.getMessage().getHeader(MAPPING, FieldMap.class);
        String body = ex.getMessage().getBody(String.class);
        JsonNode payload;
        try {
            payload = mapper.readTree(body == null ? "" : body);
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            throw new RejectedInput(IntakeResult.Outcome.INVALID, ProblemMappers.malformedProblem(e));
        } catch (JsonProcessingException e) {
            throw new RejectedInput(IntakeResult.Outcome.INVALID, Problem.of(400, "malformed-json", "Malformed JSON",
                    "the body is not valid JSON: " + e.getOriginalMessage()).withErrors(List.of(new Problem.FieldError("body", "malformed JSON"))));
        }
        if (payload == null || !payload.isObject()) {
            throw new RejectedInput(IntakeResult.Outcome.INVALID, Problem.of(400, "validation", "Invalid request", "body: a JSON object is required")
                    .withErrors(List.of(new Problem.FieldError("body", "a JSON object is required"))));
        }
        ObjectNode event;
        if (map == null) {
            event = ((ObjectNode) payload).deepCopy();
            event.put("source", name);
        } else {
            try {
                event = map.apply(payload, name);
            } catch (ApiException e) {
                throw new RejectedInput(IntakeResult.Outcome.INVALID, e.problem());
            }
        }
        ex.getMessage().setBody(event.toString());
    }
}
