package io.metalgate.driver.redfish;

import java.time.Duration;

/**
 * One BMC's breaker: closed while calls succeed; after {@code threshold} failures in a row it opens and
 * calls fail fast for {@code cooldown}; then one trial call is let through (half open) — its success
 * closes the breaker, its failure opens it again. A fleet sweep thus spends no time on a BMC known dead.
 */
final class CircuitBreaker {

    private final int threshold;
    private final long cooldownNanos;
    private int failures;
    private long openUntil;
    private boolean trialInFlight;

    CircuitBreaker(int threshold, Duration cooldown) {
        this.threshold = Math.max(1, threshold);
        this.cooldownNanos = cooldown.toNanos();
    }

    /** May a call go out now? */
    synchronized boolean allow(long now) {
        if (failures < threshold) {
            return true;
        }
        if (now - openUntil < 0 || trialInFlight) {
            return false;
        }
        trialInFlight = true;
        return true;
    }

    synchronized void success() {
        failures = 0;
        trialInFlight = false;
    }

    synchronized void failure(long now) {
        failures++;
        trialInFlight = false;
        if (failures >= threshold) {
            openUntil = now + cooldownNanos;
        }
    }

    synchronized boolean open(long now) {
        return failures >= threshold && now - openUntil < 0;
    }
}
