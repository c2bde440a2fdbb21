package io.metalgate.integration;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.metalgate.common.Printable;
import io.metalgate.common.Problem;
import io.metalgate.lease.Hold;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An inbound event from billing or ticketing. {@code (source, externalId)} identifies it: the same event
 * sent twice is accepted once. Most are lease events ({@code type} on the lease {@code leaseRef}); a
 * ticketing system's event may instead ask for a hold ({@code action} HOLD, {@code holdKind}) or carry a
 * note ({@code action} NOTE, {@code text}), on a lease ({@code leaseRef}) or a tenant ({@code tenantRef},
 * the tenant's external reference). The fields a lease event does not use are left out of its stored,
 * canonical form, so events stored before they existed compare equal to their resends.
 */
public record LeaseEvent(
        @NotBlank @Size(max = 100) @Printable String source,
        @NotBlank @Size(max = 200) @Printable String externalId,
        Type type,
        @Size(max = 200) @Printable String leaseRef,
        Instant occurredAt,
        JsonNode details,
        @JsonInclude(JsonInclude.Include.NON_NULL) Action action,
        @JsonInclude(JsonInclude.Include.NON_NULL) Hold.Kind holdKind,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Size(max = 200) @Printable String tenantRef,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Size(max = 200) @Printable String ticketRef,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Size(max = 20000) String text) {

    /** What billing says happened to the contract (domain.md "Lease"). */
    public enum Type {
        ACTIVATED, PAYMENT_OVERDUE, PAYMENT_RECEIVED, SUSPENDED, TERMINATED, CLOSED
    }

    /** What an event asks for: a lease transition (the default), a hold, or a note kept against the tenant. */
    public enum Action {
        LEASE_EVENT, HOLD, NOTE
    }

    /** A lease event (the shape billing sends). */
    public LeaseEvent(String source, String externalId, Type type, String leaseRef, Instant occurredAt, JsonNode details) {
        this(source, externalId, type, leaseRef, occurredAt, details, null, null, null, null, null);
    }

    /** The action, LEASE_EVENT when none is given. */
    public Action effectiveAction() {
        return action == null ? Action.LEASE_EVENT : action;
    }

    /** The name stored as the event's type: the lease event, {@code HOLD_<kind>} or {@code NOTE}. */
    public String typeName() {
        return switch (effectiveAction()) {
            case LEASE_EVENT -> type.name();
            case HOLD -> "HOLD_" + holdKind.name();
            case NOTE -> "NOTE";
        };
    }

    /** The audit subject of the event's target as the sender names it: {@code lease-ref:…} or {@code tenant-ref:…}. */
    public String refSubject() {
        return leaseRef != null && !leaseRef.isBlank() ? "lease-ref:" + leaseRef : "tenant-ref:" + tenantRef;
    }

    /** What the fields say together (bean validation checks each alone): empty when the event is whole. */
    public List<Problem.FieldError> crossFieldErrors() {
        List<Problem.FieldError> errors = new ArrayList<>();
        boolean lease = leaseRef != null && !leaseRef.isBlank();
        boolean tenant = tenantRef != null && !tenantRef.isBlank();
        switch (effectiveAction()) {
            case LEASE_EVENT -> {
                if (type == null) {
                    errors.add(new Problem.FieldError("type", "must not be null"));
                }
                if (!lease) {
                    errors.add(new Problem.FieldError("leaseRef", "must not be blank"));
                }
            }
            case HOLD -> {
                if (holdKind == null) {
                    errors.add(new Problem.FieldError("holdKind", "a hold needs its kind: PRESERVATION_REQUEST or DISPUTE"));
                } else if (holdKind == Hold.Kind.LEGAL_HOLD) {
                    errors.add(new Problem.FieldError("holdKind", "a legal hold is placed by a person with the legal role, not by an integration"));
                }
                if (!lease && !tenant) {
                    errors.add(new Problem.FieldError("tenantRef", "a hold needs a lease (leaseRef) or a tenant (tenantRef)"));
                }
            }
            case NOTE -> {
                if (text == null || text.isBlank()) {
                    errors.add(new Problem.FieldError("text", "a note needs its text"));
                }
                if (!lease && !tenant) {
                    errors.add(new Problem.FieldError("tenantRef", "a note needs a lease (leaseRef) or a tenant (tenantRef)"));
                }
            }
        }
        return errors;
    }
}
