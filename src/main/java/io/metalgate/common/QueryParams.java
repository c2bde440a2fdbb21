package io.metalgate.common;

import java.util.Arrays;
import java.util.Locale;

/** Query parameters parsed with a problem+json naming the parameter (JAX-RS would answer a bare 404). */
public final class QueryParams {

    private QueryParams() {
    }

    public static <E extends Enum<E>> E enumValue(Class<E> type, String value, String param) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(param, "must be one of " + Arrays.toString(type.getEnumConstants()));
        }
    }

    public static java.time.Instant instant(String value, String param) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return java.time.Instant.parse(value.strip());
        } catch (java.time.format.DateTimeParseException e) {
            throw ApiException.badRequest(param, "must be an ISO-8601 instant such as 2026-11-23T10:00:00Z");
        }
    }
}
