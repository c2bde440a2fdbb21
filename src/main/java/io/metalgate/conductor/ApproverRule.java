package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.gate.Gate;
import java.util.Set;

/** Who may approve something: not the person who asked for it, and only with the approver role. */
final class ApproverRule {

    private ApproverRule() {
    }

    /** @param what the thing approved, for the message ("request", "plan") */
    static void check(String requester, String approver, Set<String> roles, String what, String verb) {
        if (requester.equals(approver)) {
            throw new ApiException(Problem.of(409, "self-approval", "Own " + what,
                    approver + " asked for this " + what + "; someone else must " + verb + " it"));
        }
        if (!roles.contains(Gate.APPROVER_ROLE)) {
            throw new ApiException(Problem.of(403, "forbidden", "Forbidden", "approving needs the approver role"));
        }
    }
}
