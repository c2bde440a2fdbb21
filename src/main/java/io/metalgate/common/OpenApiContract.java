package io.metalgate.common;

import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;
import org.eclipse.microprofile.openapi.models.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

/**
 * The OpenAPI document says what the endpoints do, beyond what the scanner sees in signatures: both ways to sign in
 * (HTTP Basic and bearer API tokens), the problem+json answers every endpoint can give (400 for a body or parameter
 * it refuses, 401/403 for a secured one, 404 for one that names a thing, 409 for a change the state refuses, 502/504
 * when a machine's BMC failed or did not answer), and the actions the gate decides as an enumeration. Success codes
 * come from the resources themselves ({@code @ResponseStatus(201)} on every create). {@code OpenApiContractTest}
 * holds the document to this.
 */
public class OpenApiContract implements OASFilter {

    static final String PROBLEM = "Problem";

    @Override
    public void filterOpenAPI(OpenAPI api) {
        // the console's pages are HTML for people (README "The console"), not part of the API's contract
        if (api.getPaths() != null && api.getPaths().getPathItems() != null) {
            new java.util.ArrayList<>(api.getPaths().getPathItems().keySet()).stream()
                    .filter(p -> p.equals("/console") || p.startsWith("/console/")).forEach(p -> api.getPaths().removePathItem(p));
        }
        if (api.getTags() != null) {
            api.setTags(api.getTags().stream().filter(t -> !"console".equals(t.getName())).toList());
        }
        if (api.getComponents() == null) {
            api.setComponents(OASFactory.createComponents());
        }
        api.getComponents().addSecurityScheme("bearer", OASFactory.createSecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                .bearerFormat("mgt_…").description("an API token (POST /api/tokens): the roles it was minted for, until it expires"));
        api.getComponents().addSchema(PROBLEM, OASFactory.createSchema().type(List.of(Schema.SchemaType.OBJECT))
                .description("RFC 9457 problem details; errors names each refused field")
                .addProperty("type", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                .addProperty("title", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                .addProperty("status", OASFactory.createSchema().type(List.of(Schema.SchemaType.INTEGER)))
                .addProperty("detail", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                .addProperty("instance", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                .addProperty("errors", OASFactory.createSchema().type(List.of(Schema.SchemaType.ARRAY)).items(OASFactory.createSchema()
                        .type(List.of(Schema.SchemaType.OBJECT))
                        .addProperty("field", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                        .addProperty("message", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING))))));
        if (api.getPaths() == null || api.getPaths().getPathItems() == null) {
            return;
        }
        api.getPaths().getPathItems().forEach((path, item) -> {
            for (Map.Entry<PathItem.HttpMethod, Operation> e : item.getOperations().entrySet()) {
                describe(path, e.getKey(), e.getValue());
            }
        });
    }

    private static void describe(String path, PathItem.HttpMethod method, Operation op) {
        APIResponses responses = op.getResponses() == null ? OASFactory.createAPIResponses() : op.getResponses();
        op.setResponses(responses);
        boolean secured = op.getSecurity() != null && !op.getSecurity().isEmpty();
        if (secured) {
            // either way of signing in: the scanner adds only the configured scheme (basic)
            SecurityRequirement bearer = OASFactory.createSecurityRequirement().addScheme("bearer");
            if (op.getSecurity().stream().noneMatch(r -> r.hasScheme("bearer"))) {
                op.addSecurityRequirement(bearer);
            }
            problem(responses, "401", "not signed in, or the credentials are wrong");
            problem(responses, "403", "signed in without a role this endpoint needs");
        }
        boolean names = path.contains("{");
        boolean hasInput = op.getRequestBody() != null || op.getParameters() != null && !op.getParameters().isEmpty();
        if (hasInput) {
            problem(responses, "400", "a field or parameter refused; errors names each");
        }
        if (names) {
            problem(responses, "404", "no such thing");
        }
        if (method != PathItem.HttpMethod.GET && method != PathItem.HttpMethod.HEAD) {
            problem(responses, "409", "the current state refuses the change (a gate refusal lists every reason)");
        }
        if (path.startsWith("/api/machines/{id}/") && method != PathItem.HttpMethod.GET && drivesBmc(path)) {
            problem(responses, "502", "the machine's BMC answered with an error (bmc-<kind>)");
            problem(responses, "504", "the machine's BMC did not answer in time");
        }
        if (op.getParameters() != null) {
            for (Parameter p : op.getParameters()) {
                if (p.getIn() == Parameter.In.PATH && "action".equals(p.getName()) && path.endsWith("/actions/{action}")) {
                    p.setSchema(OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)).enumeration(List.of("power_off", "power_on",
                            "power_cycle", "erase", "reassign")).description("the action the gate decides (any case)"));
                }
            }
        }
    }

    private static boolean drivesBmc(String path) {
        return path.contains("/power") || path.contains("/boot-device") || path.contains("/virtual-media") || path.contains("/inventory")
                || path.contains("/actions/");
    }

    private static void problem(APIResponses responses, String code, String description) {
        if (responses.hasAPIResponse(code)) {
            return;
        }
        responses.addAPIResponse(code, OASFactory.createAPIResponse().description(description).content(OASFactory.createContent()
                .addMediaType(Problem.MEDIA_TYPE, OASFactory.createMediaType().schema(OASFactory.createSchema().ref(PROBLEM)))));
    }
}
