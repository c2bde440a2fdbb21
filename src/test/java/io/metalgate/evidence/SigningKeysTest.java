package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Ed25519 signatures are made and checked by Bouncy Castle's lightweight API (the JDK's is slow): the bytes must be the
 * JDK provider's, byte for byte (RFC 8032 is deterministic), each must verify the other's, and RFC 8032's own test
 * vector must come out.
 */
class SigningKeysTest {

    @Test
    void ed25519SignaturesAreTheJdkProvidersByteForByteAndVerifyEitherWay() {
        Random random = new Random(8032);
        for (int i = 0; i < 40; i++) {
            KeyPair pair = SigningKeys.generate();
            byte[] data = new byte[random.nextInt(600)];
            random.nextBytes(data);
            String ours = SigningKeys.sign(pair.getPrivate(), data);
            String jdk = SigningKeys.signJca(pair.getPrivate(), data);
            assertEquals(jdk, ours, "signature " + i);
            assertTrue(SigningKeys.verify(pair.getPublic(), data, jdk));
            assertTrue(SigningKeys.verifyJca(pair.getPublic(), data, ours));
            byte[] changed = data.clone();
            if (changed.length > 0) {
                changed[random.nextInt(changed.length)] ^= 1;
                assertFalse(SigningKeys.verify(pair.getPublic(), changed, ours));
            }
            byte[] sig = Base64.getDecoder().decode(ours);
            sig[random.nextInt(sig.length)] ^= 0x40;
            assertFalse(SigningKeys.verify(pair.getPublic(), data, Base64.getEncoder().encodeToString(sig)));
            assertFalse(SigningKeys.verify(pair.getPublic(), data, Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(sig, 63))));
            assertFalse(SigningKeys.verify(pair.getPublic(), data, "not base64 ***"));
            assertFalse(SigningKeys.verify(pair.getPublic(), data, null));
        }
    }

    /** RFC 8032 section 7.1, TEST 2: one-byte message 0x72. */
    @Test
    void rfc8032TestVector() throws Exception {
        HexFormat hex = HexFormat.of();
        byte[] secret = hex.parseHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
        byte[] pkcs8 = hex.parseHex("302e020100300506032b657004220420" + hex.formatHex(secret));
        byte[] spki = hex.parseHex("302a300506032b6570032100" + "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        KeyPair pair = SigningKeys.fromEncoded(pkcs8, spki);
        String sig = SigningKeys.sign(pair.getPrivate(), new byte[] {0x72});
        assertEquals("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
                hex.formatHex(Base64.getDecoder().decode(sig)));
        assertTrue(SigningKeys.verify(pair.getPublic(), new byte[] {0x72}, sig));
    }

    @Test
    void ecdsaKeysStillSignThroughTheirProvider() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = g.generateKeyPair();
        byte[] data = "checkpoint".getBytes(StandardCharsets.UTF_8);
        String sig = SigningKeys.sign(pair.getPrivate(), data);
        assertTrue(SigningKeys.verify(pair.getPublic(), data, sig));
        assertFalse(SigningKeys.verify(pair.getPublic(), "other".getBytes(StandardCharsets.UTF_8), sig));
    }
}
