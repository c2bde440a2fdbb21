package io.metalgate.machine;

/**
 * What the appliance has done to a machine (domain.md "Machine lifecycle"). The transition table that
 * moves between these states comes with the lease-gated lifecycle; enrolment starts in {@link #ENROLLED}.
 */
public enum LifecycleState {
    ENROLLED, VERIFYING, MANAGEABLE, INSPECTING, AVAILABLE, DEPLOYING, ACTIVE, SUSPENDED, RETAINED, ERASING, ERASED,
    RETIRED,
    VERIFY_FAILED, INSPECT_FAILED, DEPLOY_FAILED, ERASE_FAILED
}
