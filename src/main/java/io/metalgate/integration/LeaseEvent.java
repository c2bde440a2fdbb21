package io.metalgate.integration;

import com.fasterxml.jackson.databind.JsonNode;
import io.metalgate.common.Printable;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.time.Instant;

/**
 * A lease event from billing or ticketing. {@code (source, externalId)} identifies it: the same event
 * sent twice is accepted once.
 */
public record LeaseEvent(
        @NotBlank @Size(max = 100) @Printable String source,
        @NotBlank @Size(max = 200) @Printable String externalId,
        @NotNull Type type,
        @NotBlank @Size(max = 200) @Printable String leaseRef,
        Instant occurredAt,
        JsonNode details) {

    /** What billing says happened to the contract (domain.md "Lease"). */
    public enum Type {
        ACTIVATED, PAYMENT_OVERDUE, PAYMENT_RECEIVED, SUSPENDED, TERMINATED, CLOSED
    }
}
