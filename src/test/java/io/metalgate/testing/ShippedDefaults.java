package io.metalgate.testing;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The configuration a user runs, for benchmarks: the {@code bench} configuration profile instead of {@code test}, so
 * none of the tests' shortened waits and denser audit checkpoints ({@code %test.*} in application.properties) apply.
 * What a benchmark cannot do without (a free HTTP and TFTP port, no DHCP lease check for clients on 127.0.0.1, no
 * power sweeps of BMCs seeded by SQL that do not exist, no mail server) is the {@code %bench.*} block there, each with
 * its reason. A benchmark with settings of its own extends this and says why.
 */
public class ShippedDefaults implements QuarkusTestProfile {

    @Override
    public String getConfigProfile() {
        return "bench";
    }
}
