package io.metalgate.common;

import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ParamConverter;
import jakarta.ws.rs.ext.ParamConverterProvider;
import jakarta.ws.rs.ext.Provider;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Query parameters read strictly, with a 400 naming the parameter (JAX-RS would answer 404 for a query
 * parameter it cannot convert, and would read {@code ?active=maybe} as false): whole numbers in range,
 * {@code true}/{@code false}, UUIDs in their canonical form, and no string with a control character
 * (PostgreSQL cannot store or compare NUL). Path parameters that are strings get the control-character
 * check too (a malformed UUID in a path stays a 404: no such resource).
 */
@Provider
public class StrictParams implements ParamConverterProvider {

    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern UUID_FORM = Pattern.compile("[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}");

    /** A query or path parameter that cannot be read: answered as a 400 problem naming it. */
    public static final class BadParameter extends WebApplicationException {

        private static final long serialVersionUID = 1L;
        private final transient Problem problem;

        BadParameter(String param, String message) {
            super(param + ": " + message, null, Response.Status.BAD_REQUEST);
            this.problem = Problem.of(400, "validation", "Invalid request", param + ": " + message)
                    .withErrors(List.of(new Problem.FieldError(param, message)));
        }

        public Problem problem() {
            return problem;
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> ParamConverter<T> getConverter(Class<T> rawType, Type genericType, Annotation[] annotations) {
        String query = null;
        String path = null;
        for (Annotation a : annotations == null ? new Annotation[0] : annotations) {
            if (a instanceof QueryParam q) {
                query = q.value();
            } else if (a instanceof PathParam p) {
                path = p.value();
            }
        }
        if (path != null) {
            String pathName = path;
            return rawType == String.class ? (ParamConverter<T>) converter(pathName, s -> text(pathName, s)) : null;
        }
        if (query == null) {
            return null;
        }
        String name = query;
        Function<String, Object> read;
        if (rawType == String.class) {
            read = s -> text(name, s);
        } else if (rawType == int.class || rawType == Integer.class) {
            read = s -> (int) whole(name, s, Integer.MIN_VALUE, Integer.MAX_VALUE);
        } else if (rawType == long.class || rawType == Long.class) {
            read = s -> whole(name, s, Long.MIN_VALUE, Long.MAX_VALUE);
        } else if (rawType == boolean.class || rawType == Boolean.class) {
            read = s -> bool(name, s);
        } else if (rawType == UUID.class) {
            read = s -> uuid(name, s);
        } else {
            return null;
        }
        return (ParamConverter<T>) converter(name, read);
    }

    private static ParamConverter<Object> converter(String name, Function<String, Object> read) {
        return new ParamConverter<>() {
            @Override
            public Object fromString(String value) {
                if (value == null) {
                    return null;
                }
                return read.apply(value);
            }

            @Override
            public String toString(Object value) {
                return value == null ? null : value.toString();
            }
        };
    }

    static String text(String name, String s) {
        String why = Text.refusedAnywhere(s);
        if (why == null && s.indexOf('\t') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        throw new BadParameter(name, why != null ? why : "must not contain a tab or line break");
    }

    static long whole(String name, String s, long min, long max) {
        String range = "must be a whole number from " + min + " to " + max;
        if (!INTEGER.matcher(s).matches()) {
            throw new BadParameter(name, "must be a whole number");
        }
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new BadParameter(name, range);
        }
        if (v < min || v > max) {
            throw new BadParameter(name, range);
        }
        return v;
    }

    static boolean bool(String name, String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new BadParameter(name, "must be true or false, not '" + s + "'");
        };
    }

    static UUID uuid(String name, String s) {
        if (!UUID_FORM.matcher(s).matches()) {
            throw new BadParameter(name, "must be a UUID such as 00000000-0000-0000-0000-000000000000");
        }
        return UUID.fromString(s);
    }
}
