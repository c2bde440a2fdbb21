package io.metalgate.integration.outbound;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** {@code metalgate.notices.*}: the signed link every notice carries to the tenant's page. */
@ConfigMapping(prefix = "metalgate.notices")
public interface NoticesConfig {

    /** The appliance's public base URL as tenants reach it (e.g. {@code https://metalgate.example}); unset: no link in notices. */
    Optional<String> linkBaseUrl();

    /** How long a notice's link is good for. */
    @WithDefault("P45D")
    Duration linkTtl();

    /** Most choices recorded through one notice's link (a bound on what an open page can be made to do). */
    @WithDefault("20")
    int linkUses();
}
