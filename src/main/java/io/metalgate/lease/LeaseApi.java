package io.metalgate.lease;

import io.metalgate.common.Printable;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** Request and response records of tenants and leases. */
public final class LeaseApi {

    private LeaseApi() {
    }

    public record TenantCreate(@NotBlank @Size(max = 200) @Printable String name, @Size(max = 200) @Printable String externalRef,
            @Email @Size(max = 320) @Printable String contactEmail) {
    }

    /** A partial update: absent (null) fields stay as they are. */
    public record TenantUpdate(@Size(min = 1, max = 200) @Printable String name, @Size(max = 200) @Printable String externalRef,
            @Email @Size(max = 320) @Printable String contactEmail) {
    }

    /**
     * @param contactEmail         where notices go now
     * @param proposedContactEmail a change one person asked for ({@code proposedBy}); in force once a second confirms it
     */
    public record TenantView(UUID id, String name, String externalRef, String contactEmail, String proposedContactEmail,
            String proposedBy, Instant createdAt, Instant updatedAt, long version) {

        static TenantView of(Tenant t) {
            return new TenantView(t.id, t.name, t.externalRef, t.contactEmail, t.contactEmailProposed, t.contactEmailProposedBy,
                    t.createdAt, t.updatedAt, t.version);
        }
    }

    /** @param contactEmail the address confirmed: the proposal must still be this one (not one changed since it was read) */
    public record ContactConfirmation(@NotBlank @Email @Size(max = 320) @Printable String contactEmail,
            @NotBlank @Size(max = 2000) @Printable String reason) {
    }

    public record LeaseCreate(@NotNull UUID tenantId, @NotBlank @Size(max = 200) @Printable String externalRef, Instant startsAt,
            Instant endsAt, @Size(max = 10000) List<@NotNull UUID> machineIds) {
    }

    /** A partial update of the contract dates; the state moves only through lease events. */
    public record LeaseUpdate(Instant startsAt, Instant endsAt) {
    }

    public record MachineIds(@NotNull @Size(min = 1, max = 10000) List<@NotNull UUID> machineIds) {
    }

    public record LeasedMachine(UUID id, String name) {
    }

    public record LeaseView(UUID id, UUID tenantId, String externalRef, LeaseState state, Instant startsAt, Instant endsAt,
            Instant terminatedAt, List<LeasedMachine> machines, Instant createdAt, Instant updatedAt, long version) {
    }

    /** A lease event through the API (billing's own events arrive through the intake route). */
    public record LeaseEventRequest(@NotNull LeaseLifecycle.Event event, @Size(max = 1000) String reason) {
    }
}
