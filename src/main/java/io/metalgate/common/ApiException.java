package io.metalgate.common;

import java.util.List;

/**
 * A failure the API answers precisely: its status, a problem kind, and optionally the fields at fault.
 * Thrown by services; {@link ProblemMappers} turns it into problem+json.
 */
public class ApiException extends RuntimeException {

    private final transient Problem problem;

    public ApiException(Problem problem) {
        super(problem.detail(), null, false, false);
        this.problem = problem;
    }

    public Problem problem() {
        return problem;
    }

    public static ApiException notFound(String what, Object id) {
        return new ApiException(Problem.of(404, "not-found", "Not found", what + " " + id + " does not exist"));
    }

    public static ApiException conflict(String detail, String field) {
        Problem p = Problem.of(409, "conflict", "Conflict", detail);
        return new ApiException(field == null ? p : p.withErrors(List.of(new Problem.FieldError(field, detail))));
    }

    public static ApiException badRequest(String field, String message) {
        return new ApiException(Problem.of(400, "validation", "Invalid request", field + ": " + message)
                .withErrors(List.of(new Problem.FieldError(field, message))));
    }
}
