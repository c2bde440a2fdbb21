package io.metalgate.integration;

import com.fasterxml.jackson.annotation.JsonFormat;
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
 * How a foreign webhook payload becomes an inbound event: each of the event's fields is read from a JSON
 * Pointer (RFC 6901) into the payload, and the foreign event name is translated by {@code types}. A
 * payload already in metalgate's own shape needs no map. Pure; a payload the map cannot read is refused
 * naming the field and the pointer, and goes to the dead letters as it came.
 *
 * <p>The action dimension (ticketing): {@code actions} says which payload values mean a hold, a note or a
 * lease event; they are read at the {@code actionAt} pointers (default: {@code type}), each a value or an
 * array of values (a ticket's tags). When several values match, the safest wins: a preservation request,
 * then a dispute, then a note, then a lease event. A payload none of whose values is listed is a lease
 * event (its {@code type} through {@code types}, as without actions). Built-in maps of widely used help
 * desks are {@link #PRESETS} ({@code "preset": "zendesk"}).
 *
 * @param externalId pointer to the sender's unique id of the event (required)
 * @param type       pointer to the sender's event name (required)
 * @param types      the sender's event names → {@link LeaseEvent.Type} names; a name not listed is refused
 * @param leaseRef   pointer to the lease's reference in the sender's system (required, unless {@code tenantRef} is given)
 * @param occurredAt pointer to when it happened: ISO-8601, or Unix seconds as a number (optional)
 * @param details    pointer to the part kept as the event's details (optional; the whole payload if absent)
 * @param actionAt   pointers to the values {@code actions} is looked up with (optional; default {@code type})
 * @param actions    payload values → {@link Meaning} names: LEASE_EVENT, PRESERVATION_REQUEST, DISPUTE, NOTE (optional)
 * @param tenantRef  pointer to the tenant's external reference (optional; holds and notes may name only a tenant)
 * @param ticketRef  pointer to the ticket's id in the sender's system (optional; kept with holds and notes)
 * @param text       pointers to a note's or a hold's text, the first present one used (optional)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FieldMap(String externalId, String type, Map<String, String> types, String leaseRef, String occurredAt, String details,
        @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> actionAt, Map<String, String> actions,
        String tenantRef, String ticketRef, @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<String> text) {

    /** What a payload value may mean, safest first. */
    public enum Meaning {
        PRESERVATION_REQUEST, DISPUTE, NOTE, LEASE_EVENT
    }

    /**
     * Zendesk's event-subscribed webhooks for ticket events (developer.zendesk.com/api-reference/webhooks/event-types/
     * webhook-event-types and …/ticket-events): {@code {"type": "zen:event-type:ticket.comment_added", "id": "<uuid>",
     * "time", "subject": "zen:ticket:<id>", "detail": {ticket: id, organization_id, external_id, subject, tags, …},
     * "event": {…}}}. The tenant is the ticket's organization (the tenant's external reference is its Zendesk
     * organization id), the lease the ticket's external id; adding the tag {@code preservation_request} (or
     * {@code legal_hold}) asks for a preservation hold, {@code dispute} (or {@code chargeback}) for a dispute hold; a
     * comment is a note, as is any other tags change. See docs/integrations.md "Ticketing".
     */
    public static final FieldMap ZENDESK = new FieldMap("/id", "/type", Map.of(), "/detail/external_id", "/time", "/event",
            List.of("/event/tags_added", "/type"),
            Map.of("preservation_request", "PRESERVATION_REQUEST", "legal_hold", "PRESERVATION_REQUEST", "dispute", "DISPUTE",
                    "chargeback", "DISPUTE", "zen:event-type:ticket.comment_added", "NOTE", "zen:event-type:ticket.tags_changed", "NOTE",
                    "zen:event-type:ticket.created", "NOTE"),
            "/detail/organization_id", "/detail/id", List.of("/event/comment/body", "/detail/subject"));

    /** The built-in maps, by the name an integration gives as {@code "preset"}. */
    public static final Map<String, FieldMap> PRESETS = Map.of("zendesk", ZENDESK);

    /** A lease-event map (the billing shape). */
    public FieldMap(String externalId, String type, Map<String, String> types, String leaseRef, String occurredAt, String details) {
        this(externalId, type, types, leaseRef, occurredAt, details, null, null, null, null, null);
    }

    /** Checks the map itself: required pointers present and well-formed, types and actions known. */
    public FieldMap {
        List<Problem.FieldError> errors = new ArrayList<>();
        pointer("mapping.externalId", externalId, true, errors);
        pointer("mapping.type", type, true, errors);
        pointer("mapping.leaseRef", leaseRef, tenantRef == null, errors);
        pointer("mapping.occurredAt", occurredAt, false, errors);
        pointer("mapping.details", details, false, errors);
        pointer("mapping.tenantRef", tenantRef, false, errors);
        pointer("mapping.ticketRef", ticketRef, false, errors);
        if (actionAt != null) {
            for (int i = 0; i < actionAt.size(); i++) {
                pointer("mapping.actionAt[" + i + "]", actionAt.get(i), true, errors);
            }
            actionAt = List.copyOf(actionAt);
        }
        if (text != null) {
            for (int i = 0; i < text.size(); i++) {
                pointer("mapping.text[" + i + "]", text.get(i), true, errors);
            }
            text = List.copyOf(text);
        }
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
        if (actions != null) {
            actions.forEach((from, to) -> {
                try {
                    Meaning.valueOf(to);
                } catch (IllegalArgumentException | NullPointerException e) {
                    errors.add(new Problem.FieldError("mapping.actions." + from, "\"" + to + "\" is not one of "
                            + java.util.Arrays.toString(Meaning.values())));
                }
            });
            actions = Map.copyOf(actions);
        }
        if (!errors.isEmpty()) {
            throw new ApiException(Problem.of(400, "validation", "Invalid request", errors.get(0).field() + ": " + errors.get(0).message())
                    .withErrors(errors));
        }
    }

    /** The built-in map named {@code name}; an unknown name is refused naming the known ones. */
    public static FieldMap preset(String name) {
        FieldMap m = PRESETS.get(name);
        if (m == null) {
            throw ApiException.badRequest("preset", "no built-in map \"" + name + "\"; known: " + new java.util.TreeSet<>(PRESETS.keySet()));
        }
        return m;
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

    /** What {@code payload} means by {@code actions}: the safest listed value at the {@code actionAt} pointers (LEASE_EVENT if none). */
    public Meaning meaning(JsonNode payload) {
        if (actions == null || actions.isEmpty()) {
            return Meaning.LEASE_EVENT;
        }
        Meaning best = null;
        for (String at : actionAt == null ? List.of(type) : actionAt) {
            JsonNode v = payload.at(at);
            List<JsonNode> values = new ArrayList<>();
            if (v.isArray()) {
                v.forEach(values::add);
            } else {
                values.add(v);
            }
            for (JsonNode one : values) {
                if (one.isValueNode() && !one.isNull()) {
                    String m = actions.get(one.asText());
                    if (m != null && (best == null || Meaning.valueOf(m).ordinal() < best.ordinal())) {
                        best = Meaning.valueOf(m);
                    }
                }
            }
        }
        return best == null ? Meaning.LEASE_EVENT : best;
    }

    /** The inbound event {@code payload} maps to, in metalgate's shape, with {@code source} as its source. */
    public ObjectNode apply(JsonNode payload, String source) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("source", source);
        out.put("externalId", text(payload, externalId, "externalId"));
        Meaning meaning = meaning(payload);
        if (meaning == Meaning.LEASE_EVENT) {
            String foreign = text(payload, type, "type");
            String mapped = types == null ? foreign : types.get(foreign);
            if (mapped == null) {
                throw invalid("type", "the sender's event \"" + foreign + "\" (at " + type + ") has no lease event"
                        + (actions == null ? "" : ", hold or note") + " in this integration's map");
            }
            out.put("type", mapped);
            out.put("leaseRef", text(payload, leaseRef, "leaseRef"));
        } else {
            out.put("action", meaning == Meaning.NOTE ? "NOTE" : "HOLD");
            if (meaning != Meaning.NOTE) {
                out.put("holdKind", meaning.name());
            }
            String lease = optional(payload, leaseRef);
            String tenant = optional(payload, tenantRef);
            if (lease == null && tenant == null) {
                throw invalid(tenantRef != null ? "tenantRef" : "leaseRef", "the payload names no lease (at " + leaseRef + ") and no tenant (at "
                        + tenantRef + ")");
            }
            if (lease != null) {
                out.put("leaseRef", lease);
            }
            if (tenant != null) {
                out.put("tenantRef", tenant);
            }
            String ticket = optional(payload, ticketRef);
            if (ticket != null) {
                out.put("ticketRef", ticket);
            }
            String said = null;
            for (String at : text == null ? List.<String> of() : text) {
                said = optional(payload, at);
                if (said != null) {
                    break;
                }
            }
            if (said == null && meaning == Meaning.NOTE) {
                said = "(" + optional(payload, type) + ")";
            }
            if (said != null) {
                out.put("text", said);
            }
        }
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

    /** The text at {@code pointer}, or null when there is none (missing, null, empty, a container). */
    private static String optional(JsonNode payload, String pointer) {
        if (pointer == null) {
            return null;
        }
        JsonNode v = payload.at(pointer);
        return v.isMissingNode() || v.isNull() || v.isContainerNode() || v.asText().isBlank() ? null : v.asText();
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
