package io.metalgate.console;

import io.metalgate.common.Problem;
import io.metalgate.security.Roles;
import java.util.List;
import java.util.Set;

/**
 * What every console page knows: who is signed in, with which roles, the session's CSRF token for its forms, the
 * section shown, and the outcome of the last action (a message, and every reason when it was refused).
 */
public record Page(String user, Set<String> roles, String csrf, String section, String message, boolean failed,
        List<Problem.FieldError> reasons) {

    Page with(String message, boolean failed, List<Problem.FieldError> reasons) {
        return new Page(user, roles, csrf, section, message, failed, reasons == null ? List.of() : reasons);
    }

    Page with(Problem problem) {
        return with(problem.detail() == null ? problem.title() : problem.detail(), true, problem.errors());
    }

    /** Whether the signed-in user holds a role (admin holds all): actions are shown only to those who may. */
    public boolean can(String role) {
        return roles.contains(role) || roles.contains(Roles.ADMIN);
    }

    public boolean isOperator() {
        return can(Roles.OPERATOR);
    }

    public boolean isApprover() {
        return can(Roles.APPROVER);
    }

    public boolean isLegal() {
        return can(Roles.LEGAL);
    }

    public boolean isBilling() {
        return can(Roles.BILLING);
    }

    public String rolesText() {
        return String.join(", ", roles.stream().sorted().toList());
    }

    public boolean is(String s) {
        return s.equals(section);
    }
}
