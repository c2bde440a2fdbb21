package io.metalgate.console;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows password guessing at the console's login: at most {@link #PER_USER} failed sign-ins per user name and
 * {@link #PER_REMOTE} per remote address within {@link #WINDOW}; beyond that the form answers 429 without checking
 * the password (a guess then proves nothing), until the window has passed. In memory: a restart forgets, which
 * costs an attacker a restart of the appliance, not a way around it.
 */
@ApplicationScoped
public class LoginThrottle {

    static final int PER_USER = 5;
    static final int PER_REMOTE = 20;
    static final Duration WINDOW = Duration.ofMinutes(15);
    private static final int MAX_KEYS = 100_000;

    private final Map<String, Deque<Long>> failures = new ConcurrentHashMap<>();

    /** Whether a sign-in of {@code user} from {@code remote} may be tried now. */
    public boolean allowed(String user, String remote, long nowNanos) {
        return count("u:" + user, nowNanos) < PER_USER && count("r:" + remote, nowNanos) < PER_REMOTE;
    }

    public void failed(String user, String remote, long nowNanos) {
        if (failures.size() > MAX_KEYS) {
            failures.clear(); // a flood of names: forget rather than grow without bound
        }
        add("u:" + user, nowNanos);
        add("r:" + remote, nowNanos);
    }

    /** A sign-in that succeeded: the user's count starts again (its attempt was counted before the check). */
    public void succeeded(String user, String remote) {
        failures.remove("u:" + user);
        Deque<Long> d = failures.get("r:" + remote);
        if (d != null) {
            synchronized (d) {
                d.pollLast(); // this address's count, too: many people signing in through one proxy are no attack
            }
        }
    }

    private int count(String key, long now) {
        Deque<Long> d = failures.get(key);
        if (d == null) {
            return 0;
        }
        synchronized (d) {
            while (!d.isEmpty() && now - d.peekFirst() > WINDOW.toNanos()) {
                d.pollFirst();
            }
            return d.size();
        }
    }

    private void add(String key, long now) {
        Deque<Long> d = failures.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (d) {
            d.addLast(now);
            while (d.size() > PER_REMOTE) {
                d.pollFirst();
            }
        }
    }
}
