package io.metalgate.security;

import io.metalgate.common.ApiException;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Bearer API tokens for integrations. A user creates tokens for themself with the roles named (one or more of
 * their own; none named is refused, not "all of mine") and an expiry ({@value #DEFAULT_EXPIRY_DAYS} days unless
 * asked, at most 3,650); the secret is in the create answer only (the appliance keeps its SHA-256).
 */
@Path("/api/tokens")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "users")
public class TokenResource {

    public record TokenCreate(@NotBlank @Size(max = 100) @io.metalgate.common.Printable String name, Set<@NotNull String> roles,
            @Min(1) @Max(3650) Integer expiresInDays) {
    }

    public record TokenCreated(UUID id, String name, String token, Set<String> roles, Instant expiresAt) {
    }

    public record TokenView(UUID id, String name, String username, Set<String> roles, Instant createdAt, Instant expiresAt,
            Instant revokedAt) {
    }

    /** How long a token lives when its creator does not say. */
    public static final int DEFAULT_EXPIRY_DAYS = 90;

    @Inject
    UserStore users;
    @Inject
    AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Mint an API token with the roles named (one or more of yours) and an expiry (90 days unless asked)")
    public Uni<Response> create(@Valid @NotNull TokenCreate req) {
        if (!"basic".equals(identity.getAttribute("auth"))) {
            throw new ApiException(io.metalgate.common.Problem.of(403, "forbidden", "Forbidden",
                    "tokens are created with a user's password, not with another token"));
        }
        String username = identity.getPrincipal().getName();
        // a token carries the roles it is minted for, never silently all of its creator's (an integration needs one or two)
        if (req.roles() == null || req.roles().isEmpty()) {
            throw ApiException.badRequest("roles", "name the roles this token carries (one or more of yours: "
                    + String.join(", ", Roles.ALL.stream().filter(identity::hasRole).toList()) + ")");
        }
        Set<String> roles = new java.util.TreeSet<>();
        for (String given : req.roles()) {
            // any case: "Billing" is billing
            roles.add(given.toLowerCase(java.util.Locale.ROOT));
        }
        for (String role : roles) {
            if (!Roles.ALL.contains(role)) {
                throw ApiException.badRequest("roles", "no role \"" + role + "\" (roles: " + String.join(", ", Roles.ALL) + ")");
            }
            if (!identity.hasRole(role)) {
                throw ApiException.badRequest("roles", "you do not hold the role \"" + role + "\"");
            }
        }
        UUID id = UUID.randomUUID();
        String secret = ApiTokens.newSecret();
        // every token expires: 90 days unless asked otherwise (at most ten years)
        Instant expires = Instant.now().plus(Duration.ofDays(req.expiresInDays() == null ? DEFAULT_EXPIRY_DAYS : req.expiresInDays()));
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("tokenId", id.toString());
        payload.put("name", req.name());
        payload.put("roles", roles);
        payload.put("expiresAt", expires == null ? null : expires.toString());
        return Panache.withTransaction(() -> users.insertToken(id, req.name(), username, AuditHashes.sha256Hex(secret), roles, expires)
                .chain(() -> audit.record(username, "token.created", "user:" + username, payload)))
                .chain(audit::sequenced)
                .map(v -> Response.created(URI.create("/api/tokens/" + id))
                        .entity(new TokenCreated(id, req.name(), secret, roles, expires)).build());
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List your API tokens (an admin: everyone's)")
    public Uni<List<TokenView>> list() {
        Optional<String> owner = identity.hasRole(Roles.ADMIN) ? Optional.empty() : Optional.of(ownerName());
        return users.tokens(owner).map(all -> all.stream().map(t -> new TokenView(t.id(), t.name(), t.username(), t.roles(),
                t.createdAt(), t.expiresAt(), t.revokedAt())).toList());
    }

    @DELETE
    @Path("/{id}")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Revoke an API token")
    public Uni<Response> revoke(@PathParam("id") UUID id) {
        String actor = identity.getPrincipal().getName();
        Optional<String> owner = identity.hasRole(Roles.ADMIN) ? Optional.empty() : Optional.of(ownerName());
        return users.tokens(owner).chain(visible -> {
            var token = visible.stream().filter(t -> t.id().equals(id)).findFirst()
                    .orElseThrow(() -> ApiException.notFound("token", id));
            return Panache.withTransaction(() -> users.revokeToken(id).chain(revoked -> revoked
                    ? audit.record(actor, "token.revoked", "user:" + token.username(), Map.of("tokenId", id.toString(), "name", token.name()))
                    : Uni.createFrom().voidItem()));
        }).chain(audit::sequenced).map(v -> Response.noContent().build());
    }

    private String ownerName() {
        return Actors.person(identity);
    }
}
