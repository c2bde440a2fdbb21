package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.common.MetalgateConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The signing key outside the database: restrictive mode, pinned once, handed over, healed after a crash. */
class AuditSigningKeyTest {

    @TempDir
    Path dir;

    static MetalgateConfig.Audit.SigningKey file(Optional<String> file) {
        return new MetalgateConfig.Audit.SigningKey() {
            @Override
            public Optional<String> file() {
                return file;
            }

            @Override
            public Optional<String> pkcs11Config() {
                return Optional.empty();
            }

            @Override
            public Optional<String> pkcs11PinFile() {
                return Optional.empty();
            }

            @Override
            public String pkcs11Alias() {
                return "metalgate-audit";
            }
        };
    }

    @Test
    void aKeyFileOthersCanReadIsRefused() throws Exception {
        new AuditSigningKey(dir, file(Optional.empty()));
        Path key = dir.resolve("audit-signing.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new AuditSigningKey(dir, file(Optional.empty())));
        assertTrue(e.getMessage().contains("is open to others (mode rw-r--r--): chmod 600 it"), e.getMessage());
    }

    @Test
    void theKeyMayLiveOnAnotherMountAndThePinIsWrittenOnce() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("keys-mount")).resolve("metalgate.key");
        AuditSigningKey k = new AuditSigningKey(dir.resolve("data"), file(Optional.of(elsewhere.toString())));
        assertTrue(Files.exists(elsewhere));
        assertFalse(Files.exists(dir.resolve("data/audit-signing.key")));
        String pinned = Files.readString(dir.resolve("data/audit-public-key.pem"));
        assertEquals(k.fingerprint(), SigningKeys.fingerprint(SigningKeys.fromPem(pinned)));
        AuditSigner next = k.prepareNext(Optional.empty());
        k.promote(next);
        new AuditSigningKey(dir.resolve("data"), file(Optional.of(elsewhere.toString())));
        assertEquals(pinned, Files.readString(dir.resolve("data/audit-public-key.pem")), "the pin is never rewritten");
    }

    @Test
    void aHandOverReplacesTheKeyFileAndTheOldPrivateKeyIsGone() throws Exception {
        AuditSigningKey k = new AuditSigningKey(dir, file(Optional.empty()));
        String oldFile = Files.readString(dir.resolve("audit-signing.key"));
        String old = k.fingerprint();
        AuditSigner next = k.prepareNext(Optional.empty());
        assertTrue(Files.exists(dir.resolve("audit-signing.next.key")));
        assertEquals(old, k.fingerprint(), "not active before the hand-over is committed");
        k.promote(next);
        assertEquals(next.fingerprint(), k.fingerprint());
        assertFalse(Files.exists(dir.resolve("audit-signing.next.key")));
        String now = Files.readString(dir.resolve("audit-signing.key"));
        assertNotEquals(oldFile, now);
        assertFalse(now.contains(oldFile.split("\n")[0]), "the old private key is not kept");
        assertEquals(next.fingerprint(), new AuditSigningKey(dir, file(Optional.empty())).fingerprint(), "survives a restart");
        assertThrows(IllegalArgumentException.class, () -> k.prepareNext(Optional.of("alias")));
    }

    /** A hand-over entry at seq 7 from {@code from} to {@code to}, signed by {@code handOverBy} and {@code to}. */
    static AuditSigningKey.HandOver handOver(AuditSigner from, AuditSigner to, AuditSigner handOverBy) {
        String time = "2026-12-02T10:00:00.000000Z";
        String prev = "ab".repeat(32);
        String newKey = java.util.Base64.getEncoder().encodeToString(to.publicKey().getEncoded());
        byte[] signed = AuditHashes.handOverSigningInput(7, prev, time, from.fingerprint(), to.fingerprint(), newKey);
        var p = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        p.put("previousFingerprint", from.fingerprint());
        p.put("newFingerprint", to.fingerprint());
        p.put("newPublicKey", newKey);
        p.put("handOverSignature", handOverBy.sign(signed));
        p.put("acceptanceSignature", to.sign(signed));
        return new AuditSigningKey.HandOver(7, prev, time, p);
    }

    @Test
    void aCrashBetweenTheHandOverAndTheFileMoveIsHealedOnlyByASignedHandOver() throws Exception {
        AuditSigningKey k = new AuditSigningKey(dir, file(Optional.empty()));
        AuditSigner old = k.active();
        AuditSigner next = k.prepareNext(Optional.empty());
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> k.prepareNext(Optional.empty()));
        assertTrue(twice.getMessage().contains("is in progress"), twice.getMessage());
        // the hand-over entry committed (the registry names `next`), then the process died before promote()
        AuditSigningKey restarted = new AuditSigningKey(dir, file(Optional.empty()));
        assertEquals(old.fingerprint(), restarted.fingerprint());
        // the registry's word alone, or a hand-over not signed by the old key, is not followed
        assertTrue(restarted.signerFor(next.fingerprint(), null).isEmpty());
        assertTrue(restarted.signerFor(next.fingerprint(), handOver(old, next, next)).isEmpty());
        assertEquals(old.fingerprint(), restarted.fingerprint());
        assertEquals(next.fingerprint(), restarted.signerFor(next.fingerprint(), handOver(old, next, old)).orElseThrow()
                .fingerprint());
        assertEquals(next.fingerprint(), restarted.fingerprint());
        assertFalse(Files.exists(dir.resolve("audit-signing.next.key")));
        // a registry naming a key this appliance never held: it must not sign
        assertTrue(restarted.signerFor("ff".repeat(32), null).isEmpty());
    }

    @Test
    void aNextKeyOfAHandOverThatNeverHappenedIsDiscarded() throws Exception {
        AuditSigningKey k = new AuditSigningKey(dir, file(Optional.empty()));
        String old = k.fingerprint();
        k.prepareNext(Optional.empty());
        // crash before the hand-over committed: the registry still names the old key
        AuditSigningKey restarted = new AuditSigningKey(dir, file(Optional.empty()));
        assertEquals(old, restarted.signerFor(old, null).orElseThrow().fingerprint());
        assertFalse(Files.exists(dir.resolve("audit-signing.next.key")));
        // and a new rotation can be prepared
        restarted.prepareNext(Optional.empty());
    }

    static MetalgateConfig.Audit.SigningKey token(io.metalgate.testing.SoftHsm hsm, String alias) {
        return new MetalgateConfig.Audit.SigningKey() {
            @Override
            public Optional<String> file() {
                return Optional.empty();
            }

            @Override
            public Optional<String> pkcs11Config() {
                return Optional.of(hsm.config.toString());
            }

            @Override
            public Optional<String> pkcs11PinFile() {
                return Optional.of(hsm.pinFile.toString());
            }

            @Override
            public String pkcs11Alias() {
                return alias;
            }
        };
    }

    @Test
    void aTokenKeySignsAndHandsOverToAnotherKeyOfTheToken() throws Exception {
        try (var hsm = io.metalgate.testing.SoftHsm.create("metalgate-audit", "metalgate-audit-2")) {
            AuditSigningKey k = new AuditSigningKey(dir, token(hsm, "metalgate-audit"));
            assertTrue(k.active().source().contains("metalgate-audit"), k.active().source());
            assertFalse(Files.exists(dir.resolve("audit-signing.key")), "no key file when the key is in a token");
            assertEquals(k.fingerprint(), SigningKeys.fingerprint(SigningKeys.fromPem(
                    Files.readString(dir.resolve("audit-public-key.pem")))));
            byte[] data = "checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(SigningKeys.verify(k.active().publicKey(), data, k.sign(data)));
            IllegalArgumentException noAlias = assertThrows(IllegalArgumentException.class, () -> k.prepareNext(Optional.empty()));
            assertTrue(noAlias.getMessage().contains("name the new key's alias"), noAlias.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k.prepareNext(Optional.of("metalgate-audit")));
            AuditSigner next = k.prepareNext(Optional.of("metalgate-audit-2"));
            k.promote(next);
            assertEquals(next.fingerprint(), k.fingerprint());
            IllegalStateException missing = assertThrows(IllegalStateException.class,
                    () -> new AuditSigningKey(dir, token(hsm, "no-such-key")));
            assertTrue(missing.getMessage().contains("no EC key with alias no-such-key"), missing.getMessage());
        }
    }
}
