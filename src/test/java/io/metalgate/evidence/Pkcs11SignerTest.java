package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.SoftHsm;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The audit signing key in a real PKCS#11 token (SoftHSM2, through the JDK's SunPKCS11): the keys keytool
 * made are found, sign, and exports, checkpoints, seals and key hand-overs signed in the token verify
 * offline with the JDK's own providers.
 */
class Pkcs11SignerTest {

    private static final String ALIAS = "metalgate-audit";
    private static final String ALIAS_2 = "metalgate-audit-2";

    private static SoftHsm hsm;
    private static List<Pkcs11Signer> keys;

    @BeforeAll
    static void token() throws Exception {
        hsm = SoftHsm.create(ALIAS, ALIAS_2);
        keys = Pkcs11Signer.open(hsm.config, hsm.pinFile);
    }

    @AfterAll
    static void deleteToken() {
        if (hsm != null) {
            hsm.close();
        }
    }

    private static Pkcs11Signer key(String alias) {
        return keys.stream().filter(k -> k.alias().equals(alias)).findFirst().orElseThrow(
                () -> new AssertionError("no key " + alias + " in " + keys.stream().map(Pkcs11Signer::alias).toList()));
    }

    private static AuditVerifier.Result verify(List<String> lines, String trusted) throws Exception {
        return new AuditVerifier(AuditVerifier.Trust.keys(trusted)).verify(new StringReader(String.join("\n", lines) + "\n"));
    }

    @Test
    void findsTheTokensKeysWhichSignWhatTheJdkVerifies() {
        assertEquals(Set.of(ALIAS, ALIAS_2), keys.stream().map(Pkcs11Signer::alias).collect(Collectors.toSet()));
        assertNotEquals(key(ALIAS).fingerprint(), key(ALIAS_2).fingerprint());
        byte[] data = "{\"hash\":\"ab\",\"seq\":1,\"time\":\"2026-11-23T10:00:00.000001Z\"}".getBytes(StandardCharsets.UTF_8);
        byte[] altered = data.clone();
        altered[10] ^= 1;
        for (Pkcs11Signer k : keys) {
            assertEquals("EC", k.publicKey().getAlgorithm());
            assertEquals("SHA256withECDSA", SigningKeys.scheme(k.publicKey()));
            String signature = k.sign(data);
            assertTrue(SigningKeys.verify(k.publicKey(), data, signature), k.source());
            assertFalse(SigningKeys.verify(k.publicKey(), altered, signature), "altered data verified: " + k.source());
            // ECDSA is randomised: another signature over the same data, just as valid
            String again = k.sign(data);
            assertNotEquals(signature, again);
            assertTrue(SigningKeys.verify(k.publicKey(), data, again));
            // the public key travels as SubjectPublicKeyInfo and comes back as the same key (same fingerprint)
            String spki = java.util.Base64.getEncoder().encodeToString(k.publicKey().getEncoded());
            assertEquals(k.fingerprint(), decodedFingerprint(spki));
            assertTrue(k.source().contains(k.alias()), k.source());
            assertFalse(k.source().contains(hsm.pin), k.source());
        }
        assertFalse(SigningKeys.verify(key(ALIAS_2).publicKey(), data, key(ALIAS).sign(data)),
                "one key's signature verified with the other");
    }

    private static String decodedFingerprint(String spkiBase64) {
        try {
            return SigningKeys.fingerprint(SigningKeys.publicKeyFromBase64(spkiBase64));
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError("the token key's SubjectPublicKeyInfo does not decode", e);
        }
    }

    @Test
    void anExportSignedInTheTokenVerifiesAgainstThatKey() throws Exception {
        Pkcs11Signer k = key(ALIAS);
        List<String> export = AuditExportFixture.lines(30, 10, k);
        AuditVerifier.Result r = verify(export, k.fingerprint());
        assertTrue(r.ok(), r.message());
        assertEquals(30, r.entries());
        assertEquals(3, r.checkpoints());
        assertEquals(k.fingerprint(), r.keyFingerprint());
        assertTrue(r.message().contains("anchored by the trusted key " + k.fingerprint()), r.message());

        // the token's other key is not this log's key
        assertEquals(AuditVerifier.Status.UNTRUSTED, verify(export, key(ALIAS_2).fingerprint()).status());

        // a checkpoint signature changed in one character fails
        List<String> tampered = new ArrayList<>(export);
        for (int i = 0; i < tampered.size(); i++) {
            String l = tampered.get(i);
            if (l.endsWith("\"type\":\"checkpoint\"}") && l.contains("\"seq\":20,")) {
                int at = l.indexOf("\"signature\":\"") + 20;
                tampered.set(i, l.substring(0, at) + (l.charAt(at) == 'A' ? 'B' : 'A') + l.substring(at + 1));
            }
        }
        AuditVerifier.Result bad = verify(tampered, k.fingerprint());
        assertEquals(AuditVerifier.Status.TAMPERED, bad.status(), bad.message());
        assertEquals(Long.valueOf(20), bad.failedSeq(), bad.message());
    }

    @Test
    void handOversFromAKeyFileToTheTokenAndBetweenTokenKeysAreFollowedFromEveryAnchor() throws Exception {
        AuditSigner file = AuditExportFixture.signer(SigningKeys.generate());
        Pkcs11Signer first = key(ALIAS);
        Pkcs11Signer second = key(ALIAS_2);
        List<String> rotated = AuditExportFixture.lines(40, 10, file, Map.of(
                13L, new AuditExportFixture.HandOver(file, first), 27L, new AuditExportFixture.HandOver(first, second)));
        List<AuditSigner> chain = List.of(file, first, second);
        for (AuditSigner anchor : chain) {
            AuditVerifier.Result r = verify(rotated, anchor.fingerprint());
            assertTrue(r.ok(), r.message());
            assertTrue(r.message().contains("anchored by the trusted key " + anchor.fingerprint()), r.message());
            assertEquals(chain.stream().map(AuditSigner::fingerprint).toList(),
                    r.keys().stream().map(AuditVerifier.KeyUse::fingerprint).toList(), r.message());
            assertEquals(List.of(1L, 13L, 27L), r.keys().stream().map(AuditVerifier.KeyUse::fromSeq).toList());
            assertEquals(List.of("Ed25519", "SHA256withECDSA", "SHA256withECDSA"),
                    r.keys().stream().map(u -> SigningKeys.scheme(u.key())).toList());
            assertEquals(file.fingerprint(), r.keyFingerprint());
        }

        // a "hand-over" to the second token key that the first one did not sign (the file key signs instead) fails
        List<String> forged = AuditExportFixture.lines(40, 10, file, Map.of(
                13L, new AuditExportFixture.HandOver(file, first), 27L, new AuditExportFixture.HandOver(file, second)));
        AuditVerifier.Result r = verify(forged, file.fingerprint());
        assertEquals(AuditVerifier.Status.TAMPERED, r.status(), r.message());
        assertEquals(Long.valueOf(27), r.failedSeq(), r.message());
        assertTrue(r.message().contains("not signed by the current key " + first.fingerprint()), r.message());
    }

    @Test
    void aWrongPinFailsNamingTheTokenConfigurationButNotThePin() throws Exception {
        // A token of its own: once this JVM logged in to a token, SunPKCS11 opens it with any PIN (SoftHsm's doc).
        try (SoftHsm own = SoftHsm.create(ALIAS)) {
            String wrongPin = "not-the-pin-4711";
            Path wrong = own.pinFile("wrong-pin", wrongPin + "\n");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Pkcs11Signer.open(own.config, wrong));
            assertTrue(e.getMessage().contains(own.config.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("CKR_PIN_INCORRECT"), e.getMessage());
            assertFalse(e.getMessage().contains(wrongPin), e.getMessage());
            assertFalse(e.getMessage().contains(own.pin), e.getMessage());
            // the right PIN then opens it
            assertEquals(List.of(ALIAS), Pkcs11Signer.open(own.config, own.pinFile).stream().map(Pkcs11Signer::alias).toList());
        }
    }

    @Test
    void aConfigurationNamingNoTokenFailsNamingTheConfiguration() throws Exception {
        // SunPKCS11 reports this as a ProviderException ("Initialization failed"), not a checked exception
        Path config = hsm.dir.resolve("no-such-slot.cfg");
        Files.writeString(config, Files.readString(hsm.config).replaceFirst("(?m)^slot = \\d+$", "slotListIndex = 9999")
                .replaceFirst("(?m)^name = .*$", "name = noSuchSlot"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Pkcs11Signer.open(config, hsm.pinFile));
        assertTrue(e.getMessage().startsWith("cannot open the PKCS#11 token of " + config + ": "), e.getMessage());
    }
}
