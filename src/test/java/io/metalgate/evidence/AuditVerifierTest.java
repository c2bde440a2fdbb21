package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The offline verifier accepts an intact export and names the first bad entry of every kind of tampering. */
class AuditVerifierTest {

    private static final KeyPair KEY = SigningKeys.generate();
    private static final int ENTRIES = 30;
    private static final String FINGERPRINT = SigningKeys.fingerprint(KEY.getPublic());
    private static final List<String> EXPORT = AuditExportFixture.lines(ENTRIES, 10, KEY);

    /** Line index of entry {@code seq} (header is line 0, checkpoints follow every 10th entry). */
    private static int lineOf(long seq) {
        for (int i = 0; i < EXPORT.size(); i++) {
            if (EXPORT.get(i).contains("\"seq\":" + seq + ",") && EXPORT.get(i).endsWith("\"type\":\"entry\"}")) {
                return i;
            }
        }
        throw new IllegalArgumentException("no entry " + seq);
    }

    private static AuditVerifier.Result verify(List<String> lines) {
        try {
            return new AuditVerifier(AuditVerifier.Trust.keys(FINGERPRINT)).verify(new StringReader(String.join("\n", lines) + "\n"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void intactExportVerifies() throws Exception {
        AuditVerifier.Result r = verify(EXPORT);
        assertTrue(r.ok(), r.message());
        assertEquals(ENTRIES, r.entries());
        assertEquals(3, r.checkpoints());
        assertEquals(SigningKeys.fingerprint(KEY.getPublic()), r.keyFingerprint());
        assertTrue(r.message().contains("anchored by the trusted key " + FINGERPRINT), r.message());
    }

    @Test
    void withoutATrustAnchorAnIntactExportIsNotTrusted() throws Exception {
        var r = new AuditVerifier(new AuditVerifier.Trust(java.util.Set.of(), false))
                .verify(new StringReader(String.join("\n", EXPORT)));
        assertEquals(AuditVerifier.Status.UNTRUSTED, r.status());
        assertTrue(r.message().startsWith("key not trusted: pass --key"), r.message());
        var explicit = new AuditVerifier(AuditVerifier.Trust.fileKey()).verify(new StringReader(String.join("\n", EXPORT)));
        assertEquals(AuditVerifier.Status.OK, explicit.status());
        assertTrue(explicit.message().contains("UNANCHORED"), explicit.message());
    }

    @Test
    void holdsRemovedAndTheChainReSignedWithAnotherKeyIsNotTrusted() throws Exception {
        // the attack of issue 11: entries removed, chain recomputed, checkpoints and seal signed with a key of one's own
        KeyPair attacker = SigningKeys.generate();
        List<String> forged = AuditExportFixture.lines(ENTRIES - 3, 10, attacker);
        var byFile = new AuditVerifier(AuditVerifier.Trust.fileKey()).verify(new StringReader(String.join("\n", forged)));
        assertTrue(byFile.ok(), "consistent on its own: " + byFile.message());
        var r = verify(forged);
        assertEquals(AuditVerifier.Status.UNTRUSTED, r.status(), r.message());
        assertTrue(r.message().contains("none of which is a trusted key"), r.message());
    }

    @Test
    void keyHandOversAreFollowedFromEitherAnchor() throws Exception {
        KeyPair k1 = SigningKeys.generate();
        KeyPair k2 = SigningKeys.generate();
        List<String> rotated = AuditExportFixture.lines(40, 10, KEY, java.util.Map.of(
                13L, new AuditExportFixture.HandOver(KEY, k1), 27L, new AuditExportFixture.HandOver(k1, k2)));
        for (KeyPair anchor : List.of(KEY, k1, k2)) {
            var r = new AuditVerifier(AuditVerifier.Trust.keys(SigningKeys.fingerprint(anchor.getPublic())))
                    .verify(new StringReader(String.join("\n", rotated)));
            assertTrue(r.ok(), r.message());
            assertEquals(anchor != k2, r.message().contains("a key handed over since"), r.message());
            assertEquals(3, r.keys().size());
            assertEquals(27, r.keys().get(2).fromSeq());
        }
        var unknown = new AuditVerifier(AuditVerifier.Trust.keys(SigningKeys.fingerprint(SigningKeys.generate().getPublic())))
                .verify(new StringReader(String.join("\n", rotated)));
        assertEquals(AuditVerifier.Status.UNTRUSTED, unknown.status());
    }

    @Test
    void aHandOverNotSignedByTheCurrentKeyFails() throws Exception {
        // an attacker hands "over" from a key they do not hold to their own: the old key's signature is missing
        KeyPair attacker = SigningKeys.generate();
        List<String> forged = AuditExportFixture.lines(30, 10, KEY, java.util.Map.of(
                15L, new AuditExportFixture.HandOver(attacker, attacker)));
        var r = verify(forged);
        assertEquals(AuditVerifier.Status.TAMPERED, r.status(), r.message());
        assertEquals(Long.valueOf(15), r.failedSeq());
        assertTrue(r.message().contains("not signed by the current key"), r.message());
    }

    @Test
    void aCheckpointSignedByTheOldKeyAfterAHandOverFails() throws Exception {
        KeyPair k1 = SigningKeys.generate();
        List<String> rotated = new ArrayList<>(AuditExportFixture.lines(30, 10, KEY, java.util.Map.of(
                15L, new AuditExportFixture.HandOver(KEY, k1))));
        // re-sign the checkpoint at 20 with the retired key
        for (int i = 0; i < rotated.size(); i++) {
            String l = rotated.get(i);
            if (l.contains("\"type\":\"checkpoint\"") && l.contains("\"seq\":20,")) {
                var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(l);
                String hash = node.get("hash").asText();
                String time = node.get("time").asText();
                rotated.set(i, AuditExportFormat.checkpoint(20, hash, time,
                        SigningKeys.sign(KEY.getPrivate(), AuditHashes.checkpointSigningInput(20, hash, time))));
            }
        }
        var r = verify(rotated);
        assertEquals(AuditVerifier.Status.TAMPERED, r.status(), r.message());
        assertTrue(r.message().contains("checkpoint signature is invalid"), r.message());
        assertEquals(Long.valueOf(20), r.failedSeq());
    }

    @Test
    void changingAnyCharacterOfAnEntryFailsAndNamesIt() {
        long seq = 17;
        int line = lineOf(seq);
        String original = EXPORT.get(line);
        for (int i = 0; i < original.length(); i++) {
            char c = original.charAt(i);
            char replacement = Character.isDigit(c) ? (char) ('0' + (c - '0' + 1) % 10) : c == 'x' ? 'y' : 'x';
            List<String> tampered = new ArrayList<>(EXPORT);
            tampered.set(line, original.substring(0, i) + replacement + original.substring(i + 1));
            AuditVerifier.Result r = verify(tampered);
            assertFalse(r.ok(), "change at " + i + " passed: " + tampered.get(line));
            assertEquals(Long.valueOf(seq), r.failedSeq(), "change at " + i + ": " + r.message());
            assertTrue(r.message().contains("entry seq " + seq), r.message());
        }
    }

    @Test
    void insignificantWhitespaceIsAlsoATamperingSign() {
        List<String> tampered = new ArrayList<>(EXPORT);
        int line = lineOf(5);
        tampered.set(line, tampered.get(line).replaceFirst(",", ", "));
        AuditVerifier.Result r = verify(tampered);
        assertFalse(r.ok());
        assertEquals(Long.valueOf(5), r.failedSeq());
    }

    @Test
    void removedEntryIsNamed() {
        List<String> tampered = new ArrayList<>(EXPORT);
        tampered.remove(lineOf(12));
        AuditVerifier.Result r = verify(tampered);
        assertFalse(r.ok());
        assertEquals(Long.valueOf(12), r.failedSeq(), r.message());
    }

    @Test
    void reorderedEntriesAreNamed() {
        List<String> tampered = new ArrayList<>(EXPORT);
        Collections.swap(tampered, lineOf(22), lineOf(23));
        AuditVerifier.Result r = verify(tampered);
        assertFalse(r.ok());
        assertEquals(Long.valueOf(22), r.failedSeq(), r.message());
    }

    @Test
    void duplicatedEntryIsNamed() {
        List<String> tampered = new ArrayList<>(EXPORT);
        tampered.add(lineOf(8) + 1, EXPORT.get(lineOf(8)));
        AuditVerifier.Result r = verify(tampered);
        assertFalse(r.ok());
        assertEquals(Long.valueOf(9), r.failedSeq(), r.message());
    }

    @Test
    void cutOffTailIsDetectedWithOrWithoutTheSeal() {
        List<String> noSeal = new ArrayList<>(EXPORT.subList(0, EXPORT.size() - 1));
        AuditVerifier.Result r1 = verify(noSeal);
        assertFalse(r1.ok());
        assertTrue(r1.message().contains("without its seal"), r1.message());

        // the last two entries gone, their checkpoint kept: the checkpoint points past the end
        List<String> lastTwoGone = new ArrayList<>(EXPORT);
        lastTwoGone.remove(lineOf(ENTRIES));
        lastTwoGone.remove(lineOf(ENTRIES - 1));
        AuditVerifier.Result r2 = verify(lastTwoGone);
        assertFalse(r2.ok());
        assertEquals(Long.valueOf(ENTRIES - 1), r2.failedSeq(), r2.message());

        // the last two entries and their checkpoint gone: the signed seal still counts them
        List<String> withCheckpoint = new ArrayList<>(EXPORT);
        withCheckpoint.remove(lineOf(ENTRIES) + 1);
        withCheckpoint.remove(lineOf(ENTRIES));
        withCheckpoint.remove(lineOf(ENTRIES - 1));
        AuditVerifier.Result r3 = verify(withCheckpoint);
        assertFalse(r3.ok());
        assertTrue(r3.message().contains("entries were removed"), r3.message());
        assertEquals(Long.valueOf(ENTRIES - 1), r3.failedSeq(), r3.message());
    }

    @Test
    void forgedCheckpointSignatureFails() {
        List<String> tampered = new ArrayList<>(EXPORT);
        int cp = lineOf(10) + 1;
        String line = tampered.get(cp);
        int at = line.indexOf("\"signature\":\"") + 13;
        tampered.set(cp, line.substring(0, at) + (line.charAt(at) == 'A' ? 'B' : 'A') + line.substring(at + 1));
        AuditVerifier.Result r = verify(tampered);
        assertFalse(r.ok());
        assertTrue(r.message().contains("checkpoint"), r.message());
    }

    @Test
    void emptyLogExportVerifies() {
        assertTrue(verify(AuditExportFixture.lines(0, 10, KEY)).ok());
        assertFalse(verify(List.of()).ok());
    }
}
