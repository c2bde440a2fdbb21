package io.metalgate.integration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.quarkus.vertx.VertxContextSupport;
import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
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
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpConstants;

/**
 * Lease events from billing / ticketing over HTTP: {@code POST /api/integrations/lease-events} (operator
 * role, usually an API token). Valid events are persisted idempotently and audited (202; 200 for a
 * repeat); anything else is kept as a dead letter and answered with a problem+json naming the field.
 * Nothing that arrives is dropped.
 */
@ApplicationScoped
public class LeaseEventRoutes extends RouteBuilder {

    static final String CHANNEL = "http:lease-events";

    @Inject
    LeaseEventIntake intake;
    @Inject
    ObjectMapper mapper;
    @Inject
    Validator validator;

    @Override
    public void configure() {
        from("platform-http:/api/integrations/lease-events?httpMethodRestrict=POST")
                .routeId("lease-events-http")
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
        String actor = actor(exchange);
        String path = "/api/integrations/lease-events";
        LeaseEvent event;
        try {
            event = parse(body == null ? "" : body);
        } catch (ApiException invalid) {
            UUID deadLetter = VertxContextSupport.subscribeAndAwait(
                    () -> intake.deadLetter(CHANNEL, body == null ? "" : body, invalid.problem().detail(), actor));
            reply(exchange, invalid.problem().withInstance(path), Map.of("deadLetterId", deadLetter.toString()));
            return;
        }
        try {
            LeaseEventIntake.Outcome outcome = VertxContextSupport.subscribeAndAwait(() -> intake.accept(event, body, actor));
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
                    () -> intake.deadLetter(CHANNEL, body, conflict.problem().detail(), actor));
            reply(exchange, conflict.problem().withInstance(path), Map.of("deadLetterId", deadLetter.toString()));
        }
    }

    LeaseEvent parse(String body) {
        LeaseEvent event;
        try {
            event = mapper.readValue(body, LeaseEvent.class);
        } catch (JsonMappingException e) {
            String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            if (field.isEmpty()) {
                field = "body";
            }
            throw ApiException.badRequest(field, e.getOriginalMessage());
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

    private static String actor(Exchange exchange) {
        Object user = exchange.getMessage().getHeader(VertxPlatformHttpConstants.AUTHENTICATED_USER);
        if (user instanceof QuarkusHttpUser q && q.getSecurityIdentity() != null && !q.getSecurityIdentity().isAnonymous()) {
            return q.getSecurityIdentity().getPrincipal().getName();
        }
        return "integration";
    }
}
