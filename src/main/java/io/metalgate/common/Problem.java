package io.metalgate.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.quarkus.runtime.annotations.RegisterForReflection;
import java.util.List;

/**
 * An RFC 9457 problem detail. {@code errors} names each bad field (a JSON path such as
 * {@code bmc.port}) with what is wrong with it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@RegisterForReflection
public record Problem(String type, String title, int status, String detail, String instance, List<FieldError> errors,
        List<String> allowedEvents) {

    public Problem(String type, String title, int status, String detail, String instance, List<FieldError> errors) {
        this(type, title, status, detail, instance, errors, null);
    }

    public static final String MEDIA_TYPE = "application/problem+json";

    @RegisterForReflection
    public record FieldError(String field, String message) {
    }

    public static Problem of(int status, String kind, String title, String detail) {
        return new Problem("urn:metalgate:problem:" + kind, title, status, detail, null, null);
    }

    public Problem withErrors(List<FieldError> fieldErrors) {
        return new Problem(type, title, status, detail, instance, fieldErrors, allowedEvents);
    }

    /** For an illegal transition: the events the current state allows. */
    public Problem withAllowedEvents(List<String> events) {
        return new Problem(type, title, status, detail, instance, errors, events);
    }

    public Problem withInstance(String path) {
        return new Problem(type, title, status, detail, path, errors, allowedEvents);
    }
}
