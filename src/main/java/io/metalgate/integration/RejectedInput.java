package io.metalgate.integration;

import io.metalgate.common.Problem;

/** A message the intake refuses for what it is (not for a failure around it): it goes to the dead letters. */
final class RejectedInput extends RuntimeException {

    private final IntakeResult.Outcome outcome;
    private final transient Problem problem;

    RejectedInput(IntakeResult.Outcome outcome, Problem problem) {
        super(problem.detail(), null, false, false);
        this.outcome = outcome;
        this.problem = problem;
    }

    IntakeResult.Outcome outcome() {
        return outcome;
    }

    Problem problem() {
        return problem;
    }
}
