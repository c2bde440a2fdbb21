package io.metalgate.console;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LoginThrottleTest {

    static final long MINUTE = 60_000_000_000L;

    @Test
    void fiveFailuresOfOneUserWaitTheWindowOut() {
        LoginThrottle t = new LoginThrottle();
        for (int i = 0; i < LoginThrottle.PER_USER; i++) {
            assertTrue(t.allowed("alice", "10.0.0.1", i * MINUTE));
            t.failed("alice", "10.0.0.1", i * MINUTE);
        }
        assertFalse(t.allowed("alice", "10.0.0.2", 5 * MINUTE), "the user is throttled from anywhere");
        assertTrue(t.allowed("bob", "10.0.0.2", 5 * MINUTE), "others are not");
        assertTrue(t.allowed("alice", "10.0.0.1", 16 * MINUTE), "after the window the first failures are forgotten");
    }

    @Test
    void oneAddressSprayingManyNamesIsThrottled() {
        LoginThrottle t = new LoginThrottle();
        for (int i = 0; i < LoginThrottle.PER_REMOTE; i++) {
            t.failed("user" + i, "10.9.9.9", i);
        }
        assertFalse(t.allowed("someone-else", "10.9.9.9", 100));
        assertTrue(t.allowed("someone-else", "10.1.1.1", 100));
    }

    @Test
    void successesThroughOneProxyAreNotFailures() {
        LoginThrottle t = new LoginThrottle();
        for (int i = 0; i < 3 * LoginThrottle.PER_REMOTE; i++) {
            t.failed("user" + i, "10.0.0.99", i); // counted before the password check …
            t.succeeded("user" + i, "10.0.0.99"); // … and taken back when it held
        }
        assertTrue(t.allowed("next-user", "10.0.0.99", 1000));
    }

    @Test
    void aSuccessClearsTheUsersFailures() {
        LoginThrottle t = new LoginThrottle();
        for (int i = 0; i < LoginThrottle.PER_USER - 1; i++) {
            t.failed("carol", "10.0.0.1", i);
        }
        t.succeeded("carol", "10.0.0.1");
        t.failed("carol", "10.0.0.1", 10);
        assertTrue(t.allowed("carol", "10.0.0.1", 11));
    }
}
