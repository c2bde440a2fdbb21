package io.metalgate.integration;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a foreign webhook payload becomes a lease event: each of the event's fields is read from a JSON
 * Pointer (RFC 6901) into the payload, and the foreign event name is translated by {@code types}. A
 * payload already in metalgate's own shape needs no map. Pure; a payload the map cannot read is refused
 * naming the field and the pointer, and goes to the dead letters as it came.
 *
 * @param externalId pointer to the sender's unique id of the event (required)
 * @param type       pointer to the sender's event name (required)
 * @param types      the sender's event names → {@link LeaseEvent.Type} names; a name not listed is refused
 * @param leaseRef   pointer to the lease's reference in the sender's system (required)
 * @param occurredAt pointer to when it happened: ISO-8601, or Unix seconds as a number (optional)
 * @param details    pointer to the part kept as the event's details (optional; the whole payload if absent)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FieldMap(String externalId, String type, Map<String, String> types, String leaseRef, String occurredAt, String details) {

    /** Checks the map itself: required pointers present and well-formed, types known. */
    public FieldMap {
        List<Problem.FieldError> errors = new ArrayList<>();
        pointer("mapping.externalId", externalId, true, errors);
        pointer("mapping.type", type, true, errors);
        pointer("mapping.leaseRef", leaseRef, true, errors);
        pointer("mapping.occurredAt", occurredAt, false, errors);
        pointer("mapping.details", details, false, errors);
        if (types != null) {
            types.forEach((from, to) -> {
                try {
                    LeaseEvent.Type.valueOf(to);
                } catch (IllegalArgumentException | NullPointerException e) {
                    errors.add(new Problem.FieldError("mapping.types." + from, "\"" + to + "\" is not one of "
                            + java.util.Arrays.toString(LeaseEvent.Type.values())));
                }
            });
            types = Map.copyOf(types);
        }
        if (!errors.isEmpty()) {
            throw new ApiException(Problem.of(400, "validation", "Invalid request", errors.get(0).field() + ": " + errors.get(0).message())
                    .withErrors(errors));
        }
    }

    private static void pointer(String field, String value, boolean required, List<Problem.FieldError> errors) {
        if (value == null) {
            if (required) {
                errors.add(new Problem.FieldError(field, "a JSON Pointer is required (e.g. \"/data/id\")"));
            }
            return;
        }
        if (!value.isEmpty() && !value.startsWith("/") || value.length() > 200) {
            errors.add(new Problem.FieldError(field, "must be a JSON Pointer (RFC 6901) starting with \"/\""));
        }
    }

    /** The lease event {@code payload} maps to, in metalgate's shape, with {@code source} as its source. */
    public ObjectNode apply(JsonNode payload, String source) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("source", source);
        out.put("externalId", text(payload, externalId, "externalId"));
        String foreign = text(payload, type, "type");
        String mapped = types == null ? foreign : types.get(foreign);
        if (mapped == null) {
            throw invalid("type", "the sender's event \"" + foreign + "\" (at " + type + ") has no lease event in this integration's map");
        }
        out.put("type", mapped);
        out.put("leaseRef", text(payload, leaseRef, "leaseRef"));
        if (occurredAt != null) {
            JsonNode at = payload.at(occurredAt);
            if (at.isIntegralNumber()) {
                out.put("occurredAt", Instant.ofEpochSecond(at.asLong()).toString());
            } else if (at.isTextual()) {
                out.put("occurredAt", at.asText());
            } else if (!at.isMissingNode() && !at.isNull()) {
                throw invalid("occurredAt", "the value at " + occurredAt + " is neither an ISO-8601 time nor Unix seconds");
            }
        }
        JsonNode d = details == null ? payload : payload.at(details);
        if (!d.isMissingNode()) {
            out.set("details", d);
        }
        return out;
    }

    private static String text(JsonNode payload, String pointer, String field) {
        JsonNode v = payload.at(pointer);
        if (v.isMissingNode() || v.isNull() || v.isContainerNode()) {
            throw invalid(field, "the payload has no value at " + pointer);
        }
        return v.asText();
    }

    private static ApiException invalid(String field, String message) {
        return new ApiException(Problem.of(400, "validation", "Invalid request", field + ": " + message)
                .withErrors(List.of(new Problem.FieldError(field, message))));
    }
}
