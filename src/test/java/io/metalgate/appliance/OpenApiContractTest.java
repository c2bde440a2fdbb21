package io.metalgate.appliance;

import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document against what the endpoints do: real calls, each answer's status looked up in the document's
 * operation for that path and method (a status the document does not declare fails), plus the document's own
 * promises: both ways to sign in on every secured operation, the gate's actions as an enumeration, no 200 where a
 * create answers 201.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class OpenApiContractTest {

    private static JsonNode document() throws Exception {
        return new ObjectMapper().readTree(given().accept("application/json").get("/q/openapi").then().statusCode(200).extract().asString());
    }

    /** A real call: the method and the path as the document names it, the request, the status it answered. */
    private record Call(String method, String template, int status) {
    }

    private static Call call(String method, String template, String path, Supplier<RequestSpecification> who, Object body) {
        RequestSpecification spec = who.get();
        if (body != null) {
            spec = spec.contentType("application/json").body(body);
        }
        Response r = spec.request(method, path);
        return new Call(method, template, r.statusCode());
    }

    @Test
    void everyStatusAnEndpointAnswersIsInTheDocument() throws Exception {
        JsonNode doc = document();
        String tenant = operator().body(Map.of("name", unique("oa"))).post("/api/tenants").then().statusCode(201).extract().path("id");
        String machine = operator().body(io.metalgate.testing.Api.enrollment(unique("oa"), "pw")).post("/api/machines").then().statusCode(201)
                .extract().path("id");
        String missing = java.util.UUID.randomUUID().toString();
        List<Call> calls = new ArrayList<>();
        calls.add(call("POST", "/api/tenants", "/api/tenants", () -> operator(), Map.of("name", unique("oa"))));
        calls.add(call("POST", "/api/tenants", "/api/tenants", () -> operator(), Map.of("name", "")));
        calls.add(call("POST", "/api/tenants", "/api/tenants", () -> as("viewer"), Map.of("name", unique("oa"))));
        calls.add(call("POST", "/api/tenants", "/api/tenants", () -> given(), Map.of("name", unique("oa"))));
        calls.add(call("GET", "/api/tenants/{id}", "/api/tenants/" + tenant, () -> as("viewer"), null));
        calls.add(call("GET", "/api/tenants/{id}", "/api/tenants/" + missing, () -> as("viewer"), null));
        calls.add(call("POST", "/api/leases", "/api/leases", () -> operator(), Map.of("tenantId", tenant, "externalRef", unique("oa"))));
        calls.add(call("POST", "/api/holds", "/api/holds", () -> as("legal"), Map.of("kind", "LEGAL_HOLD", "tenantId", tenant, "reason", "oa")));
        calls.add(call("POST", "/api/tokens", "/api/tokens", () -> operator(), Map.of("name", unique("oa"), "roles", List.of("viewer"))));
        calls.add(call("GET", "/api/machines", "/api/machines", () -> as("viewer"), null));
        calls.add(call("POST", "/api/machines/{id}/actions/{action}", "/api/machines/" + machine + "/actions/erase", () -> operator(), Map.of()));
        calls.add(call("POST", "/api/machines/{id}/actions/{action}", "/api/machines/" + machine + "/actions/detonate", () -> operator(), Map.of()));
        calls.add(call("POST", "/api/integrations/lease-events", "/api/integrations/lease-events", () -> as("billing"),
                Map.of("source", "billing", "externalId", unique("oa"), "type", "ACTIVATED", "leaseRef", unique("nolease"))));
        calls.add(call("POST", "/api/integrations/lease-events", "/api/integrations/lease-events", () -> as("billing"), Map.of("x", 1)));
        calls.add(call("POST", "/api/integrations/lease-events/batch", "/api/integrations/lease-events/batch", () -> as("billing"),
                List.of(Map.of("x", 1))));

        List<String> undeclared = new ArrayList<>();
        for (Call c : calls) {
            JsonNode op = doc.path("paths").path(c.template()).path(c.method().toLowerCase(java.util.Locale.ROOT));
            assertTrue(!op.isMissingNode(), c.method() + " " + c.template() + " is not in the document");
            if (!op.path("responses").has(String.valueOf(c.status()))) {
                List<String> declared = new ArrayList<>();
                op.path("responses").fieldNames().forEachRemaining(declared::add);
                undeclared.add(c + " declared " + declared);
            }
        }
        assertEquals(List.of(), undeclared, "answers the document does not declare");
    }

    @Test
    void theDocumentNamesBothWaysToSignInTheActionsAndNoFalseSuccessCodes() throws Exception {
        JsonNode doc = document();
        JsonNode schemes = doc.path("components").path("securitySchemes");
        assertEquals("basic", schemes.path("basic").path("scheme").asText(), schemes.toString());
        assertEquals("bearer", schemes.path("bearer").path("scheme").asText(), schemes.toString());
        List<String> onlyOneWay = new ArrayList<>();
        List<String> createsAs200 = new ArrayList<>();
        List<String> unwritten = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext();) {
            var path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext();) {
                var op = ops.next();
                JsonNode security = op.getValue().path("security");
                if (security.size() > 0) {
                    boolean basic = false, bearer = false;
                    for (JsonNode req : security) {
                        basic |= req.has("basic");
                        bearer |= req.has("bearer");
                    }
                    if (!basic || !bearer) {
                        onlyOneWay.add(op.getKey() + " " + path.getKey());
                    }
                }
                String summary = op.getValue().path("summary").asText("");
                if (summary.split(" ").length < 3) {
                    unwritten.add(op.getKey() + " " + path.getKey() + " \"" + summary + "\"");
                }
                if (op.getValue().path("responses").has("201") && op.getValue().path("responses").has("200")) {
                    createsAs200.add(op.getKey() + " " + path.getKey());
                }
            }
        }
        assertEquals(List.of(), onlyOneWay, "secured operations that name one way to sign in");
        assertEquals(List.of(), createsAs200);
        assertEquals(List.of(), unwritten, "operations without a summary written for a reader (not \"Get\", \"List\")");
        JsonNode action = null;
        for (JsonNode p : doc.path("paths").path("/api/machines/{id}/actions/{action}").path("post").path("parameters")) {
            if ("action".equals(p.path("name").asText())) {
                action = p;
            }
        }
        assertTrue(action != null && action.path("schema").path("enum").size() == 5, String.valueOf(action));
        for (String create : List.of("/api/tenants", "/api/leases", "/api/holds", "/api/notices", "/api/machines", "/api/tokens", "/api/users",
                "/api/bulk/{action}", "/api/integrations")) {
            assertTrue(doc.path("paths").path(create).path("post").path("responses").has("201"), create + " does not declare 201");
        }
    }
}
