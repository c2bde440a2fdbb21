package io.metalgate.integration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.common.ProblemMappers;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;

/**
 * The lease-event intake route ({@value #INTAKE}): one route for every channel that carries lease events
 * from billing or ticketing (today HTTP through {@link LeaseEventResource}; brokers and e-mail later).
 * Valid events are persisted idempotently and audited (202; 200 for a repeat; 422 for an unknown lease,
 * still kept); anything else is kept as a dead letter and answered with a problem+json naming the field.
 * Nothing that arrives is dropped. The reply's status is in {@link Exchange#HTTP_RESPONSE_CODE}.
 */
@ApplicationScoped
public class LeaseEventRoutes extends RouteBuilder {

    /** The route's endpoint. Headers: {@link #ACTOR} (who sent it), {@link #CHANNEL} (where it came from). */
    public static final String INTAKE = "direct:lease-event-intake";
    public static final String ACTOR = "MetalgateActor";
    public static final String CHANNEL = "MetalgateChannel";

    @Inject
    LeaseEventIntake intake;
    @Inject
    ObjectMapper mapper;
    @Inject
    Validator validator;

    @Override
    public void configure() {
        from(INTAKE)
                .routeId("lease-event-intake")
                .convertBodyTo(String.class)
                .process(exchange -> {
                    try {
                        receive(exchange);
                    } catch (Exception e) {
                        throw e;
                    } catch (Throwable t) {
                        throw new IllegalStateException(t);
                    }
                });
    }

    void receive(Exchange exchange) throws Throwable {
        String body = exchange.getMessage().getBody(String.class);
        String actor = exchange.getMessage().getHeader(ACTOR, "integration", String.class);
        String channel = exchange.getMessage().getHeader(CHANNEL, "unknown", String.class);
        String path = LeaseEventResource.PATH;
        LeaseEvent event;
        try {
            event = parse(body == null ? "" : body);
        } catch (ApiException invalid) {
            UUID deadLetter = VertxContextSupport.subscribeAndAwait(
                    () -> intake.deadLetter(channel, body == null ? "" : body, invalid.problem().detail(), actor));
            reply(exchange, invalid.problem().withInstance(path), Map.of("deadLetterId", deadLetter.toString()));
            return;
        }
        try {
            LeaseEventIntake.Outcome stored = VertxContextSupport.subscribeAndAwait(() -> intake.accept(event, body, actor));
            LeaseEventIntake.Outcome outcome = stored;
            if (stored.status() == 202) {
                try {
                    outcome = VertxContextSupport.subscribeAndAwait(() -> intake.apply(stored.eventId(), event, actor));
                } catch (ApiException refused) {
                    // valid, stored, but the lease's state does not accept it: kept as REJECTED, not dead-lettered
                    Map<String, Object> extra = new LinkedHashMap<>();
                    extra.put("eventId", stored.eventId().toString());
                    extra.put("status", LeaseEventIntake.STATUS_REJECTED);
                    reply(exchange, refused.problem().withInstance(path), extra);
                    return;
                }
            }
            if (outcome.status() == 422) {
                Problem p = Problem.of(422, "unknown-lease", "Unknown lease", "no lease with external reference \""
                        + event.leaseRef() + "\"; the event is kept as " + outcome.eventId())
                        .withErrors(List.of(new Problem.FieldError("leaseRef", "no such lease"))).withInstance(path);
                reply(exchange, p, Map.of("eventId", outcome.eventId().toString()));
                return;
            }
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("eventId", outcome.eventId().toString());
            answer.put("status", outcome.state());
            answer.put("duplicate", outcome.duplicate());
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, outcome.status());
            exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
            exchange.getMessage().setBody(mapper.writeValueAsString(answer));
        } catch (ApiException conflict) {
            UUID deadLetter = VertxContextSupport.subscribeAndAwait(
                    () -> intake.deadLetter(channel, body, conflict.problem().detail(), actor));
            reply(exchange, conflict.problem().withInstance(path), Map.of("deadLetterId", deadLetter.toString()));
        }
    }

    LeaseEvent parse(String body) {
        LeaseEvent event;
        try {
            event = mapper.readValue(body, LeaseEvent.class);
        } catch (JsonMappingException e) {
            Problem.FieldError f = ProblemMappers.describe(e);
            throw ApiException.badRequest(f.field(), f.message());
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            throw new ApiException(ProblemMappers.malformedProblem(e));
        } catch (JsonProcessingException e) {
            throw new ApiException(Problem.of(400, "malformed-json", "Malformed JSON", "the body is not valid JSON: "
                    + e.getOriginalMessage()).withErrors(List.of(new Problem.FieldError("body", "malformed JSON"))));
        }
        if (event == null) {
            throw ApiException.badRequest("body", "an event is required");
        }
        Set<ConstraintViolation<LeaseEvent>> violations = validator.validate(event);
        if (!violations.isEmpty()) {
            List<Problem.FieldError> errors = violations.stream()
                    .map(v -> new Problem.FieldError(v.getPropertyPath().toString(), v.getMessage()))
                    .sorted(Comparator.comparing(Problem.FieldError::field)).toList();
            throw new ApiException(Problem.of(400, "validation", "Invalid request",
                    errors.stream().map(f -> f.field() + ": " + f.message()).collect(Collectors.joining("; "))).withErrors(errors));
        }
        return event;
    }

    private void reply(Exchange exchange, Problem problem, Map<String, Object> extra) throws JsonProcessingException {
        Map<String, Object> body = new LinkedHashMap<>(mapper.convertValue(problem, Map.class));
        body.putAll(extra);
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, problem.status());
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, Problem.MEDIA_TYPE);
        exchange.getMessage().setBody(mapper.writeValueAsString(body));
    }
}
