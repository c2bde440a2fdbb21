package io.metalgate.evidence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.Optional;

/**
 * Checks an audit export offline: no database, no appliance, only the file. Stops at the first line
 * that breaks the chain and names it. Used by {@code metalgate audit verify FILE}.
 *
 * <p>What it proves: every entry is byte-for-byte canonical, hashes to its {@code hash}, links to the
 * previous entry, and sequence numbers run 1, 2, 3 without gaps; every checkpoint and the final seal are
 * signed by the key in the header (compare its fingerprint with the appliance's published one, or pass
 * it as {@code expectedKeyFingerprint}); and the seal pins the last entry, so a cut-off tail fails.
 */
public final class AuditVerifier {

    /** The outcome of a verification. {@code failedSeq} is the first bad entry's sequence when known. */
    public record Result(boolean ok, String message, long lineNumber, Long failedSeq, long entries, long checkpoints,
            String keyFingerprint) {
    }

    private static final class Failure extends Exception {
        final Long seq;

        Failure(String message, Long seq) {
            super(message, null, false, false);
            this.seq = seq;
        }
    }

    private final ObjectMapper mapper = new ObjectMapper();
    private final Optional<String> expectedKeyFingerprint;

    public AuditVerifier(Optional<String> expectedKeyFingerprint) {
        this.expectedKeyFingerprint = expectedKeyFingerprint.map(String::toLowerCase);
    }

    public Result verify(Reader input) throws IOException {
        BufferedReader reader = input instanceof BufferedReader b ? b : new BufferedReader(input, 1 << 16);
        long lineNo = 0;
        long entries = 0;
        long checkpoints = 0;
        long lastSeq = 0;
        String lastHash = AuditHashes.GENESIS;
        PublicKey key = null;
        String fingerprint = null;
        boolean sealed = false;
        String line;
        try {
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (sealed) {
                    throw new Failure("content after the seal", null);
                }
                ObjectNode node = parseCanonical(line, lastSeq + 1);
                String type = text(node, "type", lastSeq + 1);
                if (lineNo == 1) {
                    if (!"header".equals(type)) {
                        throw new Failure("the first line must be the export header, found \"" + type + "\"", null);
                    }
                    if (!AuditExportFormat.FORMAT.equals(text(node, "format", null))) {
                        throw new Failure("unknown export format " + node.get("format"), null);
                    }
                    try {
                        key = Ed25519Keys.publicKeyFromBase64(text(node, "publicKey", null));
                    } catch (GeneralSecurityException | IllegalArgumentException e) {
                        throw new Failure("the header's public key is not an Ed25519 key", null);
                    }
                    fingerprint = Ed25519Keys.fingerprint(key);
                    if (!fingerprint.equals(text(node, "keyFingerprint", null))) {
                        throw new Failure("the header's key fingerprint does not match its key", null);
                    }
                    if (expectedKeyFingerprint.isPresent() && !expectedKeyFingerprint.get().equals(fingerprint)) {
                        throw new Failure("signed with key " + fingerprint + ", expected " + expectedKeyFingerprint.get(), null);
                    }
                    continue;
                }
                switch (type) {
                    case "entry" -> {
                        long seq = number(node, "seq", lastSeq + 1);
                        if (seq != lastSeq + 1) {
                            throw new Failure("expected entry seq " + (lastSeq + 1) + " but found seq " + seq
                                    + " (an entry is missing, duplicated or out of order)", lastSeq + 1);
                        }
                        String prevHash = text(node, "prevHash", seq);
                        if (!prevHash.equals(lastHash)) {
                            throw new Failure("prevHash does not match the hash of entry " + lastSeq, seq);
                        }
                        JsonNode payload = node.get("payload");
                        if (payload == null) {
                            throw new Failure("missing field \"payload\"", seq);
                        }
                        String hash = AuditHashes.entryHash(seq, text(node, "time", seq), text(node, "actor", seq),
                                text(node, "action", seq), text(node, "subject", seq), CanonicalJson.write(payload), prevHash);
                        if (!hash.equals(text(node, "hash", seq))) {
                            throw new Failure("content does not match its hash (the entry was altered)", seq);
                        }
                        lastSeq = seq;
                        lastHash = hash;
                        entries++;
                    }
                    case "checkpoint" -> {
                        long seq = number(node, "seq", null);
                        if (seq > lastSeq) {
                            throw new Failure("checkpoint for seq " + seq + " but the last entry is seq " + lastSeq
                                    + " (entries are missing)", lastSeq + 1);
                        }
                        if (seq != lastSeq || seq == 0) {
                            throw new Failure("checkpoint for seq " + seq + " does not follow entry " + seq, seq);
                        }
                        String hash = text(node, "hash", seq);
                        if (!hash.equals(lastHash)) {
                            throw new Failure("checkpoint hash differs from entry " + seq, seq);
                        }
                        byte[] signed = AuditHashes.checkpointSigningInput(seq, hash, text(node, "time", seq));
                        if (!Ed25519Keys.verify(key, signed, text(node, "signature", seq))) {
                            throw new Failure("checkpoint signature is invalid", seq);
                        }
                        checkpoints++;
                    }
                    case "seal" -> {
                        long sealEntries = number(node, "entries", null);
                        long firstSeq = number(node, "firstSeq", null);
                        long sealLast = number(node, "lastSeq", null);
                        String sealHash = text(node, "lastHash", null);
                        String body = AuditExportFormat.sealBody(sealEntries, firstSeq, sealLast, sealHash,
                                text(node, "keyFingerprint", null), text(node, "exportedAt", null));
                        if (!Ed25519Keys.verify(key, body.getBytes(StandardCharsets.UTF_8), text(node, "signature", null))) {
                            throw new Failure("the export seal's signature is invalid", null);
                        }
                        if (sealLast != lastSeq || !sealHash.equals(lastHash) || sealEntries != entries) {
                            throw new Failure("the seal covers " + sealEntries + " entries up to seq " + sealLast
                                    + " but the file holds " + entries + " up to seq " + lastSeq
                                    + " (entries were removed or added)", lastSeq + 1);
                        }
                        sealed = true;
                    }
                    case "header" -> throw new Failure("a second header", null);
                    default -> throw new Failure("unknown line type \"" + type + "\"", lastSeq + 1);
                }
            }
            if (lineNo == 0) {
                throw new Failure("the file is empty", null);
            }
            if (!sealed) {
                throw new Failure("the export ends without its seal (it was cut off)", lastSeq + 1);
            }
        } catch (Failure f) {
            String where = f.seq != null ? "entry seq " + f.seq + " (line " + lineNo + ")" : "line " + lineNo;
            return new Result(false, "FAILED at " + where + ": " + f.getMessage(), lineNo, f.seq, entries, checkpoints,
                    fingerprint);
        }
        return new Result(true, "OK: " + entries + " entries (seq 1.." + lastSeq + "), " + checkpoints
                + " signed checkpoints, sealed; last hash " + lastHash + "; signing key SHA-256 " + fingerprint, lineNo,
                null, entries, checkpoints, fingerprint);
    }

    private ObjectNode parseCanonical(String line, long seqHint) throws Failure {
        JsonNode node;
        try {
            node = mapper.readTree(line);
        } catch (JsonProcessingException e) {
            throw new Failure("not valid JSON (expected entry seq " + seqHint + " or its checkpoint)", seqHint);
        }
        if (!(node instanceof ObjectNode object)) {
            throw new Failure("not a JSON object (expected entry seq " + seqHint + " or its checkpoint)", seqHint);
        }
        if (!CanonicalJson.write(object).equals(line)) {
            JsonNode seq = object.get("seq");
            boolean isEntry = object.has("prevHash") || (object.get("type") != null && "entry".equals(object.get("type").asText()));
            throw new Failure("not in canonical form (the line was edited)",
                    seq != null && seq.canConvertToLong() ? Long.valueOf(seq.longValue()) : isEntry ? Long.valueOf(seqHint) : null);
        }
        return object;
    }

    private static String text(JsonNode node, String field, Long seq) throws Failure {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new Failure("missing or non-text field \"" + field + "\"", seq);
        }
        return v.textValue();
    }

    private static long number(JsonNode node, String field, Long seq) throws Failure {
        JsonNode v = node.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new Failure("missing or non-integer field \"" + field + "\"", seq);
        }
        return v.longValue();
    }
}
