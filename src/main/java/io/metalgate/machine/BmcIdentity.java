package io.metalgate.machine;

import io.metalgate.common.ApiException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * A BMC's canonical identity (domain.md "Identity is canonical"): one BMC is one machine however its
 * address is spelled. The identity is the resolved address: an IPv4-mapped IPv6 address is its IPv4
 * address, a host name is what it resolves to (once, at enrolment), a trailing dot and letter case do not
 * count. The port is not part of it: one BMC answers Redfish on 443 and IPMI on 623, and another port or
 * protocol on the same address is the same server. The resolved address is also what is stored and what
 * the drivers connect to, so a name that later resolves elsewhere (DNS rebinding) cannot point a machine at
 * another BMC. Where the BMC reports what the hardware is (manufacturer and serial), that is checked too
 * (conductor.Inspection).
 *
 * @param host     what the drivers connect to: the canonical address ({@code [v6]} bracketed)
 * @param identity the canonical address, unique among machines
 */
public record BmcIdentity(String host, String identity) {

    /** Resolves {@code given} (blocking for a host name: call it off the event loop). 400 when it does not resolve. */
    public static BmcIdentity of(String given) {
        String h = given.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        while (h.endsWith(".") && h.length() > 1) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.contains("%")) {
            throw ApiException.badRequest("bmc.host", "an IPv6 address with a zone (" + given + ") is not a stable identity");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            throw ApiException.badRequest("bmc.host", "'" + given + "' does not resolve; a BMC is identified by its address");
        }
        String canonical = canonical(address);
        return new BmcIdentity(canonical.contains(":") ? "[" + canonical + "]" : canonical, canonical);
    }

    static String canonical(InetAddress a) {
        if (a instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            if (mapped) {
                try {
                    return InetAddress.getByAddress(new byte[] { b[12], b[13], b[14], b[15] }).getHostAddress();
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
            return v6.getHostAddress().replaceAll("%.*$", "");
        }
        return ((Inet4Address) a).getHostAddress();
    }
}
