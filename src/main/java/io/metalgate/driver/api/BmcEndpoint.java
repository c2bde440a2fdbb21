package io.metalgate.driver.api;

import java.util.Optional;
import java.util.UUID;

/**
 * Where a machine's BMC is and how to log in. {@code certificateSha256} is the pinned TLS certificate
 * (trust on first use), empty until the first connection. The password never appears in {@link #toString()}.
 */
public record BmcEndpoint(UUID machineId, String host, int port, String username, String password, Optional<String> certificateSha256) {

    /** host:port, the key of this BMC's connection pool, session and circuit breaker. */
    public String key() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return "BmcEndpoint[" + machineId + " " + username + "@" + key() + "]";
    }
}
