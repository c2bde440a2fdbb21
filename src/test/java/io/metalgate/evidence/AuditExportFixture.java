package io.metalgate.evidence;

import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds audit exports without a database, with the same code the appliance uses, for verifier tests
 * and the verify benchmark.
 */
public final class AuditExportFixture {

    private AuditExportFixture() {
    }

    public interface Sink {
        void line(String line) throws java.io.IOException;
    }

    /** A signer for a key pair held in memory (a key file's, without the file). */
    public static AuditSigner signer(KeyPair key) {
        return new AuditSigningKey.FileSigner(key, null);
    }

    public static List<String> lines(int entries, int checkpointEvery, KeyPair key) {
        return lines(entries, checkpointEvery, signer(key));
    }

    /** An export whose checkpoints and seal {@code key} signs (a key file's or a PKCS#11 token's key). */
    public static List<String> lines(int entries, int checkpointEvery, AuditSigner key) {
        return lines(entries, checkpointEvery, key, java.util.Map.of());
    }

    public static void write(int entries, int checkpointEvery, KeyPair key, Sink sink) throws java.io.IOException {
        write(entries, checkpointEvery, signer(key), java.util.Map.of(), sink);
    }

    /**
     * A key hand-over at a seq: {@code from} signs as the current key (a forger passes another), {@code to}
     * becomes the key.
     */
    public record HandOver(AuditSigner from, AuditSigner to) {

        public HandOver(KeyPair from, KeyPair to) {
            this(signer(from), signer(to));
        }
    }

    public static List<String> lines(int entries, int checkpointEvery, KeyPair first, java.util.Map<Long, HandOver> handOvers) {
        return lines(entries, checkpointEvery, signer(first), handOvers);
    }

    public static List<String> lines(int entries, int checkpointEvery, AuditSigner first,
            java.util.Map<Long, HandOver> handOvers) {
        List<String> out = new ArrayList<>(entries + entries / Math.max(1, checkpointEvery) + handOvers.size() + 2);
        try {
            write(entries, checkpointEvery, first, handOvers, out::add);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    public static void write(int entries, int checkpointEvery, KeyPair first, java.util.Map<Long, HandOver> handOvers,
            Sink sink) throws java.io.IOException {
        write(entries, checkpointEvery, signer(first), handOvers, sink);
    }

    /** An export of {@code entries} entries whose entries at the keys of {@code handOvers} are key hand-overs. */
    public static void write(int entries, int checkpointEvery, AuditSigner first, java.util.Map<Long, HandOver> handOvers,
            Sink sink) throws java.io.IOException {
        Instant t0 = Instant.parse("2026-11-23T10:00:00Z");
        String exportedAt = AuditHashes.formatTime(t0.plusSeconds(entries));
        sink.line(AuditExportFormat.header(first.publicKey(), exportedAt));
        String prev = AuditHashes.GENESIS;
        AuditSigner key = first;
        long checkpoints = 0;
        for (long seq = 1; seq <= entries; seq++) {
            String time = AuditHashes.formatTime(t0.plusMillis(seq));
            String actor = seq % 3 == 0 ? "system" : "operator-" + (seq % 7);
            String action = seq % 2 == 0 ? "machine.updated" : "machine.enrolled";
            String subject = "machine:00000000-0000-0000-0000-" + String.format("%012d", seq % 60000);
            String payload = "{\"changes\":{\"rack\":{\"from\":\"R" + (seq % 40) + "\",\"to\":\"R" + (seq % 41)
                    + "\"}},\"note\":\"Grüße \\\"quoted\\\" ✓\",\"size\":" + seq + "}";
            HandOver handOver = handOvers.get(seq);
            if (handOver != null) {
                actor = "admin";
                action = AuditSequencer.KEY_ROTATED;
                subject = AuditSequencer.KEY_SUBJECT;
                payload = handOverPayload(seq, prev, time, key, handOver);
            }
            String hash = AuditHashes.entryHash(seq, time, actor, action, subject, payload, prev);
            sink.line(AuditExportFormat.entry(seq, time, actor, action, subject, payload, prev, hash));
            if (handOver != null) {
                key = handOver.to();
            }
            if (handOver != null || checkpointEvery > 0 && seq % checkpointEvery == 0) {
                sink.line(AuditExportFormat.checkpoint(seq, hash, time,
                        key.sign(AuditHashes.checkpointSigningInput(seq, hash, time))));
                checkpoints++;
            }
            prev = hash;
        }
        sink.line(AuditExportFormat.seal(entries, entries == 0 ? 0 : 1, entries, prev, checkpoints, key, exportedAt));
    }

    private static String handOverPayload(long seq, String prevHash, String time, AuditSigner current, HandOver h) {
        String previous = current.fingerprint();
        String next = h.to().fingerprint();
        String nextKey = java.util.Base64.getEncoder().encodeToString(h.to().publicKey().getEncoded());
        byte[] signed = AuditHashes.handOverSigningInput(seq, prevHash, time, previous, next, nextKey);
        java.util.Map<String, Object> p = new java.util.TreeMap<>();
        p.put("acceptanceSignature", h.to().sign(signed));
        p.put("handOverSignature", h.from().sign(signed));
        p.put("newFingerprint", next);
        p.put("newPublicKey", nextKey);
        p.put("previousFingerprint", previous);
        p.put("reason", "scheduled rotation");
        return CanonicalJson.write(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(p));
    }
}
