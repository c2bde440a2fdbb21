package io.metalgate.driver.api;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Where a machine's BMC is and how to log in. {@code certificateSha256} is the pinned TLS certificate
 * (trust on first use), empty until the first connection; {@code options} what this machine needs unlike
 * the others. The password never appears in {@link #toString()}.
 */
public record BmcEndpoint(UUID machineId, String host, int port, String username, String password, Optional<String> certificateSha256,
        Options options) {

    /**
     * Per-machine settings (Ironic keeps the like in {@code driver_info}): {@code systemId}, which system of a
     * BMC that manages several (blades) this machine is; {@code ipmiPrivilege}, the IPMI privilege level to
     * ask for (default: the lowest each command needs); {@code resetTypes}, what the BMC calls each power
     * action when its own names are not the standard ones (e.g. {@code OFF -> PowerOffNonGraceful}).
     */
    public record Options(Optional<String> systemId, Optional<IpmiPrivilege> ipmiPrivilege, Map<PowerAction, String> resetTypes) {

        public static final Options NONE = new Options(Optional.empty(), Optional.empty(), Map.of());

        public Options {
            resetTypes = Map.copyOf(resetTypes);
        }
    }

    /** IPMI 2.0 privilege levels (Table 6-, "Privilege Levels"), by the value RAKP and Set Session Privilege use. */
    public enum IpmiPrivilege {
        USER(2), OPERATOR(3), ADMINISTRATOR(4);

        public final int level;

        IpmiPrivilege(int level) {
            this.level = level;
        }
    }

    public BmcEndpoint(UUID machineId, String host, int port, String username, String password, Optional<String> certificateSha256) {
        this(machineId, host, port, username, password, certificateSha256, Options.NONE);
    }

    public BmcEndpoint {
        options = options == null ? Options.NONE : options;
    }

    /** host:port, the key of this BMC's connection pool, session and circuit breaker. */
    public String key() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return "BmcEndpoint[" + machineId + " " + username + "@" + key() + options.systemId().map(s -> " system " + s).orElse("") + "]";
    }
}
