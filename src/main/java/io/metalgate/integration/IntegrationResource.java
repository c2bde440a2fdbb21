package io.metalgate.integration;

import io.metalgate.common.Problem;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Signed webhook integrations: configured by admins, read by operators (never their secrets). */
@Path("/api/integrations")
@Tag(name = "integrations")
@Produces({ MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE })
@Consumes(MediaType.APPLICATION_JSON)
public class IntegrationResource {

    /** A new integration; without a secret, one is generated and returned once. */
    public record Create(@NotNull @Pattern(regexp = "[a-z0-9][a-z0-9-]{0,63}", message = "lower-case letters, digits and '-', at most 64") String name,
            @NotNull Integrations.Kind kind, @Size(min = 32, max = 512) String secret, Integrations.Scheme signatureScheme,
            @Size(min = 1, max = 100) @Pattern(regexp = "[A-Za-z0-9-]+", message = "an HTTP header name") String signatureHeader,
            @Min(1) @Max(86400) Long toleranceSeconds, @Valid FieldMap mapping,
            @Size(max = 64) @Pattern(regexp = "[a-z0-9-]+", message = "a built-in map's name, e.g. zendesk") String preset) {

        /** The field map: the given one, or the built-in one named by {@code preset} (not both). */
        FieldMap effectiveMapping() {
            return IntegrationResource.effective(mapping, preset);
        }

        /** The scheme given, else the one of the preset's sender (Zendesk signs its own way), else metalgate's. */
        Integrations.Scheme effectiveScheme() {
            return signatureScheme != null ? signatureScheme : "zendesk".equals(preset) ? Integrations.Scheme.ZENDESK : Integrations.Scheme.METALGATE;
        }
    }

    public record Update(Boolean enabled, @Min(1) @Max(86400) Long toleranceSeconds,
            @Size(min = 1, max = 100) @Pattern(regexp = "[A-Za-z0-9-]+", message = "an HTTP header name") String signatureHeader, FieldMap mapping,
            Boolean clearMapping, @Size(max = 64) @Pattern(regexp = "[a-z0-9-]+", message = "a built-in map's name, e.g. zendesk") String preset) {
    }

    static FieldMap effective(FieldMap mapping, String preset) {
        if (preset == null) {
            return mapping;
        }
        if (mapping != null) {
            throw io.metalgate.common.ApiException.badRequest("preset", "give a mapping or a preset, not both");
        }
        return FieldMap.preset(preset);
    }

    public record Rotate(@Size(min = 32, max = 512) String secret) {
    }

    /** The integration, and its secret when the appliance generated it (shown this once). */
    public record Created(Integrations.View integration, String secret) {
    }

    @Inject
    Integrations integrations;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Create a signed webhook integration (a field map, or a built-in one: \"preset\": \"zendesk\")")
    @APIResponse(responseCode = "201", description = "created; the secret is returned when it was generated")
    @APIResponse(responseCode = "400", description = "invalid field, unknown preset, or both a mapping and a preset")
    @APIResponse(responseCode = "409", description = "the name is taken")
    public Uni<Response> create(@NotNull @Valid Create c) {
        String secret = c.secret() != null ? c.secret() : Integrations.newSecret();
        return integrations.create(c.name(), c.kind(), secret, c.effectiveScheme(), c.signatureHeader(), c.toleranceSeconds(), c.effectiveMapping(), actor())
                .map(v -> Response.created(URI.create("/api/integrations/" + v.name()))
                        .entity(new Created(v, c.secret() == null ? secret : null)).build());
    }

    @GET
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING, Roles.LEGAL })
    @Operation(summary = "List integrations (without secrets)")
    public Uni<List<Integrations.View>> list() {
        return integrations.list();
    }

    @GET
    @Path("{name}")
    @RolesAllowed({ Roles.OPERATOR, Roles.BILLING, Roles.LEGAL })
    @Operation(summary = "One integration (without its secret)")
    @APIResponse(responseCode = "200", description = "the integration")
    @APIResponse(responseCode = "404", description = "no such integration")
    public Uni<Integrations.View> get(@PathParam("name") String name) {
        return integrations.get(name);
    }

    @PATCH
    @Path("{name}")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Enable or disable an integration, change its replay window, header or field map")
    @APIResponse(responseCode = "200", description = "changed")
    @APIResponse(responseCode = "404", description = "no such integration")
    public Uni<Integrations.View> update(@PathParam("name") String name, @NotNull @Valid Update u) {
        return integrations.update(name, u.enabled(), u.toleranceSeconds(), u.signatureHeader(), effective(u.mapping(), u.preset()),
                Boolean.TRUE.equals(u.clearMapping()), actor());
    }

    @POST
    @Path("{name}/secret")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Replace an integration's secret (generated when none is given, and returned this once)")
    @APIResponse(responseCode = "200", description = "replaced")
    @APIResponse(responseCode = "404", description = "no such integration")
    public Uni<Created> rotate(@PathParam("name") String name, @Valid Rotate r) {
        String secret = r != null && r.secret() != null ? r.secret() : Integrations.newSecret();
        return integrations.rotateSecret(name, secret, actor()).map(v -> new Created(v, r != null && r.secret() != null ? null : secret));
    }

    private String actor() {
        return identity.getPrincipal().getName();
    }
}
