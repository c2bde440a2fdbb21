package io.metalgate.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.metalgate.common.ApiException;
import org.junit.jupiter.api.Test;

/** One BMC, one identity, however its address is spelled; the driver connects to that resolved address. */
class BmcIdentityTest {

    @Test
    void spellingsOfOneAddressAreOneIdentity() {
        BmcIdentity ip = BmcIdentity.of("127.0.0.1");
        assertEquals("127.0.0.1", ip.identity());
        for (String spelling : new String[] { "localhost", "LOCALHOST.", "localhost.", "[::ffff:127.0.0.1]", "::ffff:7f00:1", " 127.0.0.1 " }) {
            assertEquals(ip, BmcIdentity.of(spelling), spelling);
        }
        // a name is stored as what it resolved to: what the drivers connect to cannot be rebound later
        assertEquals("127.0.0.1", BmcIdentity.of("localhost").host());
        assertEquals("[0:0:0:0:0:0:0:1]", BmcIdentity.of("[::1]").host());
        assertEquals(BmcIdentity.of("[::1]"), BmcIdentity.of("[0:0:0:0:0:0:0:1]"));
    }

    @Test
    void unresolvableOrZonedAddressesAreRefused() {
        assertThrows(ApiException.class, () -> BmcIdentity.of("no-such-bmc.invalid"));
        assertThrows(ApiException.class, () -> BmcIdentity.of("[fe80::1%eth0]"));
    }
}
