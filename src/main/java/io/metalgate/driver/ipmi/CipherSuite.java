package io.metalgate.driver.ipmi;

import java.util.Arrays;
import java.util.Optional;

/**
 * The RMCP+ cipher suites metalgate speaks (IPMI v2.0 table 22-20). Every one authenticates, protects
 * integrity and encrypts: suites without (0, 1, 2 …) are never proposed, so a BMC that only offers them is
 * refused rather than used in the clear (ipmi_sim accepts any password under suite 0).
 *
 * @param id          the suite number, as {@code ipmitool -C}
 * @param authAlg     authentication algorithm number (1 RAKP-HMAC-SHA1, 3 RAKP-HMAC-SHA256)
 * @param integrityAlg integrity algorithm number (1 HMAC-SHA1-96, 4 HMAC-SHA256-128)
 * @param confAlg     confidentiality algorithm number (1 AES-CBC-128)
 * @param hmac        the JCE name of the HMAC both use
 * @param integrityLength bytes of the AuthCode on each packet, and of the RAKP 4 integrity check value
 */
public enum CipherSuite {
    SUITE_3(3, 1, 1, 1, "HmacSHA1", 12),
    SUITE_17(17, 3, 4, 1, "HmacSHA256", 16);

    public final int id;
    public final int authAlg;
    public final int integrityAlg;
    public final int confAlg;
    public final String hmac;
    public final int integrityLength;

    CipherSuite(int id, int authAlg, int integrityAlg, int confAlg, String hmac, int integrityLength) {
        this.id = id;
        this.authAlg = authAlg;
        this.integrityAlg = integrityAlg;
        this.confAlg = confAlg;
        this.hmac = hmac;
        this.integrityLength = integrityLength;
    }

    public static Optional<CipherSuite> byId(int id) {
        return Arrays.stream(values()).filter(s -> s.id == id).findFirst();
    }

    public static Optional<CipherSuite> byAlgorithms(int auth, int integrity, int conf) {
        return Arrays.stream(values()).filter(s -> s.authAlg == auth && s.integrityAlg == integrity && s.confAlg == conf).findFirst();
    }
}
