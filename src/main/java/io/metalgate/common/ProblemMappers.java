package io.metalgate.common;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.vertx.pgclient.PgException;
import jakarta.persistence.OptimisticLockException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.hibernate.StaleStateException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error of the API as RFC 9457 {@code application/problem+json}, naming the bad field where there
 * is one. Unique and foreign-key violations of the database become 409 with the field they concern, so
 * a race between two requests answers the same as a check would have. A failed BMC call is mapped where
 * drivers are called ({@code conductor.BmcProblems}).
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    /** Database constraint → the API field it protects and what a clash means. */
    private static final Map<String, Problem.FieldError> CONSTRAINTS = Map.ofEntries(
            Map.entry("machine_name_key", new Problem.FieldError("name", "a machine with this name is already enrolled")),
            Map.entry("machine_bmc_endpoint_key",
                    new Problem.FieldError("bmc.host", "another machine is enrolled with this BMC host and port")),
            Map.entry("tenant_name_key", new Problem.FieldError("name", "a tenant with this name exists")),
            Map.entry("tenant_external_ref_key", new Problem.FieldError("externalRef", "a tenant with this external reference exists")),
            Map.entry("lease_external_ref_key", new Problem.FieldError("externalRef", "a lease with this external reference exists")),
            Map.entry("lease_machine_machine_key", new Problem.FieldError("machineIds", "a machine is already in another lease")),
            Map.entry("lease_machine_machine_id_fkey", new Problem.FieldError("id", "the machine is still part of a lease")),
            Map.entry("lease_tenant_id_fkey", new Problem.FieldError("id", "the tenant still has leases")),
            Map.entry("app_user_pkey", new Problem.FieldError("username", "a user with this name exists")));

    @ServerExceptionMapper
    public Response api(ApiException e, UriInfo uri) {
        return respond(e.problem(), uri);
    }

    @ServerExceptionMapper
    public Response validation(ConstraintViolationException e, UriInfo uri) {
        List<Problem.FieldError> errors = e.getConstraintViolations().stream()
                .map(v -> new Problem.FieldError(fieldOf(v), v.getMessage()))
                .sorted(Comparator.comparing(Problem.FieldError::field))
                .toList();
        String detail = errors.stream().map(f -> f.field() + ": " + f.message()).collect(Collectors.joining("; "));
        return respond(Problem.of(400, "validation", "Invalid request", detail).withErrors(errors), uri);
    }

    // Quarkus REST ships mappers for some Jackson subtypes; the most specific type wins, so name them all.
    @ServerExceptionMapper({ UnrecognizedPropertyException.class, InvalidFormatException.class, MismatchedInputException.class,
            JsonMappingException.class })
    public Response mapping(JsonMappingException e, UriInfo uri) {
        Problem.FieldError f = describe(e);
        return respond(Problem.of(400, "validation", "Invalid request", f.field() + ": " + f.message()).withErrors(List.of(f)), uri);
    }

    /** The field a JSON binding error concerns and what is wrong with it, in words for the sender. */
    public static Problem.FieldError describe(JsonMappingException e) {
        String field = path(e);
        if (field.isEmpty()) {
            field = "body";
        }
        if (e instanceof UnrecognizedPropertyException) {
            return new Problem.FieldError(field, "unknown field");
        }
        if (e instanceof InvalidFormatException ife && ife.getTargetType() != null) {
            if (ife.getTargetType().isEnum()) {
                return new Problem.FieldError(field, "must be one of " + List.of(ife.getTargetType().getEnumConstants()));
            }
            return new Problem.FieldError(field, "cannot read " + quoted(ife.getValue()) + " as " + ife.getTargetType().getSimpleName());
        }
        if (e instanceof MismatchedInputException mie && mie.getTargetType() != null) {
            return new Problem.FieldError(field, "expected " + mie.getTargetType().getSimpleName());
        }
        return new Problem.FieldError(field, e.getOriginalMessage());
    }

    @ServerExceptionMapper
    public Response malformed(JsonParseException e, UriInfo uri) {
        return respond(malformedProblem(e), uri);
    }

    /**
     * A body that is not JSON, or has a key twice in one object (strict duplicate detection): the problem
     * names the duplicated field by its path, else {@code body}.
     */
    public static Problem malformedProblem(JsonParseException e) {
        var loc = e.getLocation();
        String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        String duplicate = duplicateField(e);
        if (duplicate != null) {
            return Problem.of(400, "validation", "Invalid request", duplicate + ": given more than once")
                    .withErrors(List.of(new Problem.FieldError(duplicate, "given more than once" + where)));
        }
        return Problem.of(400, "malformed-json", "Malformed JSON", "the body is not valid JSON" + where + ": "
                + e.getOriginalMessage()).withErrors(List.of(new Problem.FieldError("body", "malformed JSON" + where)));
    }

    /** The path of the key a duplicate-detection error concerns (the parser is still on it), or null. */
    private static String duplicateField(JsonParseException e) {
        String message = e.getOriginalMessage();
        if (message == null || !message.startsWith("Duplicate field '")) {
            return null;
        }
        com.fasterxml.jackson.core.JsonParser p = e.getProcessor();
        if (p != null && p.getParsingContext() != null) {
            List<String> parts = new ArrayList<>(); // outermost first
            for (var ctx = p.getParsingContext(); ctx != null && !ctx.inRoot(); ctx = ctx.getParent()) {
                if (ctx.inObject() && ctx.getCurrentName() != null) {
                    parts.add(0, ctx.getCurrentName());
                } else if (ctx.inArray()) {
                    parts.add(0, "[" + Math.max(ctx.getCurrentIndex(), 0) + "]");
                }
            }
            StringBuilder sb = new StringBuilder();
            for (String part : parts) {
                if (!sb.isEmpty() && !part.startsWith("[")) {
                    sb.append('.');
                }
                sb.append(part);
            }
            String path = sb.toString();
            if (!path.isEmpty()) {
                return path;
            }
        }
        return message.substring("Duplicate field '".length(), Math.max(message.lastIndexOf('\''), "Duplicate field '".length()));
    }

    @ServerExceptionMapper({ UnauthorizedException.class, AuthenticationFailedException.class })
    public Response unauthorized(RuntimeException e, UriInfo uri) {
        if (isConsole(uri)) {
            // a browser without a session is sent to sign in, and back here after
            String next = uri.getRequestUri().getRawPath() + (uri.getRequestUri().getRawQuery() == null ? "" : "?" + uri.getRequestUri().getRawQuery());
            return Response.seeOther(java.net.URI.create("/console/login?next=" + java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8)))
                    .header("Cache-Control", "no-store").build();
        }
        return Response.status(401).type(Problem.MEDIA_TYPE)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Basic realm=\"metalgate\"")
                .entity(Problem.of(401, "unauthorized", "Authentication required",
                        "send HTTP Basic credentials or an API token (Authorization: Bearer ...)").withInstance(uri.getPath()))
                .build();
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, UriInfo uri) {
        if (isConsole(uri)) {
            return consoleRefusal(403, "Your roles do not allow this page or action.");
        }
        return respond(Problem.of(403, "forbidden", "Forbidden", "your roles do not allow this operation"), uri);
    }

    private static boolean isConsole(UriInfo uri) {
        String path = uri.getPath();
        return path.equals("/console") || path.startsWith("/console/");
    }

    /** A refusal on a console page: HTML for a person, not problem+json. */
    public static Response consoleRefusal(int status, String message) {
        String html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused — metalgate</title>"
                + "<link rel=\"stylesheet\" href=\"/console/static/console.css\"></head><body><main class=\"narrow\"><h1>Refused</h1>"
                + "<p class=\"flash bad\" role=\"alert\">" + message + "</p><p><a href=\"/console\">Back to the console</a></p></main></body></html>";
        return Response.status(status).type(jakarta.ws.rs.core.MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).header("Cache-Control", "no-store")
                .entity(html).build();
    }

    @ServerExceptionMapper({ OptimisticLockException.class, StaleStateException.class })
    public Response stale(RuntimeException e, UriInfo uri) {
        return respond(Problem.of(409, "conflict", "Conflict", "the resource was changed by someone else; read it again"), uri);
    }

    @ServerExceptionMapper
    public Response badParameter(StrictParams.BadParameter e, UriInfo uri) {
        return respond(e.problem(), uri);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        if (e instanceof StrictParams.BadParameter bad) {
            return badParameter(bad, uri);
        }
        JsonParseException parse = find(e, JsonParseException.class);
        if (parse != null) {
            return malformed(parse, uri);
        }
        JsonMappingException mapping = find(e, JsonMappingException.class);
        if (mapping != null) {
            return mapping(mapping, uri);
        }
        int status = e.getResponse().getStatus();
        String title = Response.Status.fromStatusCode(status) == null ? "Error" : Response.Status.fromStatusCode(status).getReasonPhrase();
        return respond(Problem.of(status, "http-" + status, title, e.getMessage()), uri);
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e, UriInfo uri) {
        String constraint = violatedConstraint(e);
        if (constraint != null) {
            Problem.FieldError f = CONSTRAINTS.getOrDefault(constraint,
                    new Problem.FieldError("body", "conflicts with existing data (" + constraint + ")"));
            return respond(Problem.of(409, "conflict", "Conflict", f.field() + ": " + f.message()).withErrors(List.of(f)), uri);
        }
        if (find(e, OptimisticLockException.class) != null || find(e, StaleStateException.class) != null) {
            return stale((RuntimeException) e, uri);
        }
        ConstraintViolationException cve = find(e, ConstraintViolationException.class);
        if (cve != null) {
            return validation(cve, uri);
        }
        ApiException api = find(e, ApiException.class);
        if (api != null) {
            return api(api, uri);
        }
        StrictParams.BadParameter bad = find(e, StrictParams.BadParameter.class);
        if (bad != null) {
            return badParameter(bad, uri);
        }
        String errorId = UUID.randomUUID().toString();
        LOG.errorf(e, "Unexpected error %s on %s", errorId, uri.getPath());
        return respond(Problem.of(500, "internal", "Internal error", "unexpected error; its id in the log is " + errorId), uri);
    }

    /** The unique or foreign-key constraint a database error reports, whichever client raised it. */
    private static String violatedConstraint(Throwable e) {
        var hibernate = find(e, org.hibernate.exception.ConstraintViolationException.class);
        if (hibernate != null && hibernate.getConstraintName() != null) {
            return hibernate.getConstraintName();
        }
        PgException pg = find(e, PgException.class);
        if (pg != null && ("23505".equals(pg.getSqlState()) || "23503".equals(pg.getSqlState()))) {
            return pg.getConstraint();
        }
        return null;
    }

    private static Response respond(Problem p, UriInfo uri) {
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(p.withInstance(uri.getPath())).build();
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String fieldOf(ConstraintViolation<?> v) {
        // Path: method.argN.field.sub → field.sub (the JSON field of the request body or the query parameter)
        List<String> names = new ArrayList<>();
        for (Path.Node node : v.getPropertyPath()) {
            switch (node.getKind()) {
                case METHOD, CONSTRUCTOR, RETURN_VALUE, CROSS_PARAMETER -> {
                }
                case PARAMETER -> names.clear();
                default -> names.add(node.getName() + (node.getIndex() != null ? "[" + node.getIndex() + "]" : ""));
            }
        }
        if (names.isEmpty()) {
            String p = v.getPropertyPath().toString();
            return p.substring(p.lastIndexOf('.') + 1);
        }
        return String.join(".", names);
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String quoted(Object value) {
        return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
    }
}
