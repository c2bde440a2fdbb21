package io.metalgate.gate;

import java.util.List;

/** What the gate decided and every reason that blocks (empty when allowed). */
public record Decision(Action action, boolean allowed, List<Reason> reasons) {

    public Decision {
        reasons = List.copyOf(reasons);
    }

    /** Why an action is blocked: a stable code for machines, a sentence for people. */
    public record Reason(Code code, String message) {
    }

    public enum Code {
        LEASE_ACTIVE, LEASE_NOT_TERMINATED, MACHINE_STATE, HOLD, RETENTION, NOTICE_NOT_PROVEN, APPROVAL_MISSING,
        SELF_APPROVAL, BULK_SECOND_APPROVAL, NOT_ERASED, NO_CERTIFICATE, CERTIFICATE_INVALID, CERTIFICATE_INCOMPLETE,
        EMERGENCY_WITHOUT_REASON, TENANT_REQUEST_UNCONFIRMED, TENANT_DATA
    }
}
