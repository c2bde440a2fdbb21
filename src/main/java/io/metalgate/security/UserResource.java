package io.metalgate.security;

import io.metalgate.common.ApiException;
import io.metalgate.common.SecretFiles;
import io.metalgate.evidence.AuditLog;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.metalgate.common.Offload;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Users of the appliance (admin only), and each user's own identity and password. */
@Path("/api/users")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "users")
public class UserResource {

    public record UserCreate(@NotNull @Pattern(regexp = "[a-z][a-z0-9._-]{1,63}", message = "lower-case letters, digits, . _ -; 2 to 64 characters") String username,
            @Size(min = 12, max = 200, message = "must have 12 to 200 characters") String password,
            @NotEmpty Set<@NotNull String> roles) {
    }

    /** {@code password} is present only in the answer to a create that generated it. */
    public record UserView(String username, Set<String> roles, boolean disabled, Instant createdAt, String password) {
    }

    public record PasswordChange(@NotNull @Size(min = 12, max = 200, message = "must have 12 to 200 characters") String password) {
    }

    public record Me(String name, Set<String> roles, String authentication) {
    }

    @Inject
    UserStore users;
    @Inject
    ConsoleSessions sessions;
    @Inject
    AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed(Roles.ADMIN)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "List users and their roles")
    public Uni<List<UserView>> list() {
        return users.list().map(all -> all.stream().map(u -> new UserView(u.username(), u.roles(), u.disabled(), u.createdAt(), null)).toList());
    }

    @GET
    @Path("/me")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Who is signed in: name, roles, how authenticated")
    public Me me() {
        return new Me(identity.getPrincipal().getName(), identity.getRoles(), identity.getAttribute("auth"));
    }

    @POST
    @RolesAllowed(Roles.ADMIN)
    @org.eclipse.microprofile.openapi.annotations.responses.APIResponse(responseCode = "201", description = "Created; Location names it")
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Create a user with roles")
    public Uni<Response> create(@Valid @NotNull UserCreate req) {
        for (String role : req.roles()) {
            if (!Roles.ALL.contains(role)) {
                throw ApiException.badRequest("roles", "unknown role \"" + role + "\"; roles are " + Roles.ALL);
            }
        }
        String password = req.password() != null ? req.password() : SecretFiles.randomPassword();
        String actor = identity.getPrincipal().getName();
        return hashOffLoop(password)
                .chain(hash -> Panache.withTransaction(() -> users.insert(req.username(), hash, req.roles())
                        .chain(() -> audit.record(actor, "user.created", "user:" + req.username(),
                                Map.of("username", req.username(), "roles", req.roles())))))
                .chain(audit::sequenced)
                .map(v -> Response.created(URI.create("/api/users/" + req.username()))
                        .entity(new UserView(req.username(), req.roles(), false, Instant.now(),
                                req.password() == null ? password : null))
                        .build());
    }

    @PUT
    @Path("/me/password")
    @RolesAllowed(Roles.VIEWER)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Change your own password")
    public Uni<Response> changeOwnPassword(@Valid @NotNull PasswordChange req) {
        if (!"basic".equals(identity.getAttribute("auth"))) {
            throw new ApiException(io.metalgate.common.Problem.of(403, "forbidden", "Forbidden",
                    "an API token cannot change a password"));
        }
        return setPassword(identity.getPrincipal().getName(), req.password());
    }

    @PUT
    @Path("/{username}/password")
    @RolesAllowed(Roles.ADMIN)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Set a user's password")
    public Uni<Response> changePassword(@PathParam("username") String username, @Valid @NotNull PasswordChange req) {
        return setPassword(username, req.password());
    }

    @DELETE
    @Path("/{username}")
    @RolesAllowed(Roles.ADMIN)
    @org.eclipse.microprofile.openapi.annotations.Operation(summary = "Delete a user")
    public Uni<Response> delete(@PathParam("username") String username) {
        if (username.equals(identity.getPrincipal().getName())) {
            throw ApiException.conflict("you cannot delete yourself", "username");
        }
        String actor = identity.getPrincipal().getName();
        return Panache.withTransaction(() -> users.delete(username).chain(deleted -> {
            if (!deleted) {
                throw ApiException.notFound("user", username);
            }
            return audit.record(actor, "user.deleted", "user:" + username, Map.of("username", username));
        })).chain(audit::sequenced).map(v -> Response.noContent().build());
    }

    private Uni<Response> setPassword(String username, String password) {
        String actor = identity.getPrincipal().getName();
        return hashOffLoop(password)
                .chain(hash -> Panache.withTransaction(() -> users.updatePassword(username, hash).chain(updated -> {
                    if (!updated) {
                        throw ApiException.notFound("user", username);
                    }
                    return audit.record(actor, "user.password-changed", "user:" + username, Map.of("username", username));
                })))
                .chain(audit::sequenced)
                // a new password ends every console session of the user: a cookie stolen or left on a screen dies with the old one
                .call(() -> sessions.closeAll(username))
                .map(v -> Response.noContent().build());
    }

    /** Argon2id takes tens of milliseconds: never on the event loop. */
    private static Uni<String> hashOffLoop(String password) {
        return Offload.blocking(() -> PasswordHasher.hash(password));
    }
}
