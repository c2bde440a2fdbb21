package io.metalgate.driver.ipmi;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * RMCP+ session cryptography (IPMI v2.0 §13.28–13.32), pure functions. The user key Kuid is the password
 * padded with zeros to 20 bytes (for both suites); Kg = Kuid (no BMC key is set on the BMCs we manage).
 * Both sides use these: the client checks RAKP 2 and 4 and makes RAKP 3; a BMC the reverse.
 */
public final class Rakp {

    private Rakp() {
    }

    /** The 20-byte key of a password: its bytes, zero-padded (IPMI 2.0 passwords are at most 20 bytes). */
    public static byte[] userKey(String password) {
        byte[] p = password.getBytes(StandardCharsets.ISO_8859_1);
        if (p.length > 20) {
            throw new IllegalArgumentException("an IPMI 2.0 password has at most 20 bytes");
        }
        return Arrays.copyOf(p, 20);
    }

    /** JCE lookups are slow next to an HMAC of 60 bytes: one Mac per algorithm and thread, re-keyed per use. */
    private static final ThreadLocal<java.util.Map<String, Mac>> MACS = ThreadLocal.withInitial(java.util.HashMap::new);

    public static byte[] hmac(CipherSuite suite, byte[] key, byte[]... parts) {
        try {
            Mac mac = MACS.get().get(suite.hmac);
            if (mac == null) {
                mac = Mac.getInstance(suite.hmac);
                MACS.get().put(suite.hmac, mac);
            }
            mac.init(new SecretKeySpec(key, suite.hmac));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.hmac + " unavailable", e);
        }
    }

    /** RAKP 2's key exchange authentication code: HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm). */
    public static byte[] rakp2Code(CipherSuite suite, byte[] kuid, int consoleSid, int bmcSid, byte[] consoleRandom, byte[] bmcRandom,
            byte[] bmcGuid, int role, String user) {
        return hmac(suite, kuid, le32(consoleSid), le32(bmcSid), consoleRandom, bmcRandom, bmcGuid, roleAndName(role, user));
    }

    /** RAKP 3's key exchange authentication code: HMAC_Kuid(Rc, SIDm, ROLEm, ULENGTHm, UNAMEm). */
    public static byte[] rakp3Code(CipherSuite suite, byte[] kuid, byte[] bmcRandom, int consoleSid, int role, String user) {
        return hmac(suite, kuid, bmcRandom, le32(consoleSid), roleAndName(role, user));
    }

    /** The session integrity key: HMAC_Kg(Rm, Rc, ROLEm, ULENGTHm, UNAMEm). */
    public static byte[] sik(CipherSuite suite, byte[] kg, byte[] consoleRandom, byte[] bmcRandom, int role, String user) {
        return hmac(suite, kg, consoleRandom, bmcRandom, roleAndName(role, user));
    }

    /** RAKP 4's integrity check value: HMAC_SIK(Rm, SIDc, GUIDc), truncated to the suite's integrity length. */
    public static byte[] rakp4Icv(CipherSuite suite, byte[] sik, byte[] consoleRandom, int bmcSid, byte[] bmcGuid) {
        return Arrays.copyOf(hmac(suite, sik, consoleRandom, le32(bmcSid), bmcGuid), suite.integrityLength);
    }

    /**
     * K1 (integrity key) and K2 (whose first 16 bytes are the AES key): HMAC_SIK(const1 / const2). The
     * constants are 20 bytes of 0x01 / 0x02 for every suite — also for SHA-256, whose SIK is 32 bytes
     * (found by interop: ipmitool -C 17 does so; sizing them to the SIK breaks every packet).
     */
    public static SessionKeys keys(CipherSuite suite, byte[] sik) {
        int n = 20;
        byte[] c1 = new byte[n];
        byte[] c2 = new byte[n];
        Arrays.fill(c1, (byte) 1);
        Arrays.fill(c2, (byte) 2);
        return new SessionKeys(suite, sik, hmac(suite, sik, c1), hmac(suite, sik, c2));
    }

    private static byte[] roleAndName(int role, String user) {
        byte[] name = user.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[2 + name.length];
        out[0] = (byte) role;
        out[1] = (byte) name.length;
        System.arraycopy(name, 0, out, 2, name.length);
        return out;
    }

    static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    /** The keys of an established session. {@code k2}'s first 16 bytes encrypt (AES-CBC-128). */
    public record SessionKeys(CipherSuite suite, byte[] sik, byte[] k1, byte[] k2) {
        public byte[] aesKey() {
            return Arrays.copyOf(k2, 16);
        }

        @Override
        public String toString() {
            return "SessionKeys[" + suite + "]"; // never the keys
        }
    }
}
