package io.metalgate.integration;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.Problem;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * The HTTP edge of the intake: the status each {@link IntakeResult.Outcome} is answered with, chosen
 * here and not by the route or the domain. A message whose processing failed is kept as a dead letter
 * and answered 503 with Retry-After, so a sender that retries loses nothing and applies nothing twice
 * (the event's key makes a resend a repeat).
 */
final class IntakeAnswers {

    private IntakeAnswers() {
    }

    static int status(IntakeResult r) {
        return switch (r.outcome()) {
            case APPLIED -> 202;
            case DUPLICATE -> 200;
            case REJECTED, CONFLICT -> 409;
            case UNKNOWN_LEASE -> 422;
            case INVALID -> r.problem() != null && r.problem().status() >= 400 && r.problem().status() < 500 ? r.problem().status() : 400;
            case FAILED -> 503;
        };
    }

    /** One event's entry in a batch's answer: its outcome, what was kept, and its problem when it has one. */
    static Map<String, Object> item(int index, IntakeResult r, ObjectMapper mapper) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("index", index);
        item.put("outcome", r.outcome().name());
        item.put("httpStatus", status(r));
        if (r.eventId() != null) {
            item.put("eventId", r.eventId().toString());
        }
        if (r.deadLetterId() != null) {
            item.put("deadLetterId", r.deadLetterId().toString());
        }
        if (r.status() != null) {
            item.put("status", r.status());
        }
        item.put("duplicate", r.outcome() == IntakeResult.Outcome.DUPLICATE);
        if (r.problem() != null) {
            item.put("problem", mapper.convertValue(r.problem(), Map.class));
        }
        return item;
    }

    /** The answer to an exchange through the intake route, for a request to {@code path}. */
    static Response http(Exchange reply, String path, ObjectMapper mapper) {
        if (reply.getException() != null || !(reply.getMessage().getBody() instanceof IntakeResult r)) {
            // not even a dead letter could be written: refuse, so the sender keeps the message
            Problem p = Problem.of(503, "intake-unavailable", "Intake unavailable", "the message could not be stored ("
                    + (reply.getException() == null ? "no result" : reply.getException().getClass().getSimpleName())
                    + "); send it again later").withInstance(path);
            return Response.status(503).header("Retry-After", "30").type(Problem.MEDIA_TYPE).entity(p).build();
        }
        int status = status(r);
        Map<String, Object> body = new LinkedHashMap<>();
        if (r.problem() != null && r.outcome() != IntakeResult.Outcome.DUPLICATE) {
            Problem p = r.problem();
            body.putAll(mapper.convertValue(new Problem(p.type(), p.title(), status, p.detail(), path, p.errors()).withAllowedEvents(
                    p.allowedEvents()), Map.class));
        }
        if (r.eventId() != null) {
            body.put("eventId", r.eventId().toString());
        }
        if (r.deadLetterId() != null) {
            body.put("deadLetterId", r.deadLetterId().toString());
        }
        if (r.status() != null) {
            // a problem document's "status" is its HTTP status (RFC 9457): the event's own is "eventStatus" there
            body.put(body.containsKey("status") ? "eventStatus" : "status", r.status());
        }
        if (r.problem() == null || r.outcome() == IntakeResult.Outcome.DUPLICATE) {
            body.put("duplicate", r.outcome() == IntakeResult.Outcome.DUPLICATE);
        }
        Response.ResponseBuilder out = Response.status(status).entity(body)
                .type(r.problem() != null && r.outcome() != IntakeResult.Outcome.DUPLICATE ? Problem.MEDIA_TYPE : MediaType.APPLICATION_JSON);
        if (r.outcome() == IntakeResult.Outcome.FAILED) {
            out.header("Retry-After", "30");
        }
        return out.build();
    }
}
