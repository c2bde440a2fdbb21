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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks an audit export offline: no database, no appliance, only the file. Stops at the first line
 * that breaks the chain and names it. Used by {@code metalgate audit verify FILE}.
 *
 * <p>What it proves: every entry is byte-for-byte canonical, hashes to its {@code hash}, links to the
 * previous entry, and sequence numbers run 1, 2, 3 without gaps; every checkpoint and the final seal are
 * signed by the key current at that place in the chain (the header's key from seq 1, then each successor
 * a hand-over entry names, signed by the old key and the new one); and the seal pins the last entry, so a
 * cut-off tail fails. Who signed it is a separate question with its own answer ({@link Status#UNTRUSTED}):
 * the export proves nothing of its origin unless one of its keys is a trust anchor the auditor got
 * elsewhere (a pinned key file, a fingerprint). Anyone can make a consistent file with a key of their own.
 *
 * <p>Lines are read in batches; the work that depends on one line only (parsing, canonical form, the
 * entry's own hash) runs in parallel, the chain is then checked in order, so the first failure reported
 * is the first in the file.
 */
public final class AuditVerifier {

    /** Intact and signed by a trusted key; altered somewhere; or intact but signed by no key the auditor trusts. */
    public enum Status {
        OK, TAMPERED, UNTRUSTED
    }

    /** A signing key of the log and the first entry it signs for. */
    public record KeyUse(String fingerprint, PublicKey key, long fromSeq) {
    }

    /**
     * The outcome of a verification. {@code failedSeq} is the first bad entry's sequence when known;
     * {@code keyFingerprint} the log's first key; {@code keys} every key in the order they took over;
     * {@code hashesAt} the entry hashes at the sequence numbers asked for (witnessed heads).
     */
    public record Result(Status status, String message, long lineNumber, Long failedSeq, long entries, long checkpoints,
            String keyFingerprint, List<KeyUse> keys, long lastSeq, String exportedAt, java.util.Map<Long, String> hashesAt) {

        public boolean ok() {
            return status == Status.OK;
        }
    }

    /**
     * What the verifier trusts: fingerprints of keys obtained out of band; or, only when asked in so many
     * words, the key the file carries ({@code trustFileKey}).
     */
    public record Trust(java.util.Set<String> fingerprints, boolean trustFileKey) {

        public Trust {
            fingerprints = fingerprints.stream().map(f -> f.toLowerCase(java.util.Locale.ROOT)).collect(
                    java.util.stream.Collectors.toUnmodifiableSet());
        }

        public static Trust keys(String... fingerprints) {
            return new Trust(java.util.Set.of(fingerprints), false);
        }

        public static Trust fileKey() {
            return new Trust(java.util.Set.of(), true);
        }
    }

    private static final int BATCH = 8192;

    private static final class Failure extends Exception {
        final Long seq;

        Failure(String message, Long seq) {
            super(message, null, false, false);
            this.seq = seq;
        }
    }

    /** What can be learnt from one line alone; {@code signatureValid} was checked with {@code signedBy}. */
    private record Prepared(String line, ObjectNode node, String type, Entry entry, String problem, Boolean signatureValid,
            PublicKey signedBy) {

        Prepared(String line, ObjectNode node, String type, Entry entry, String problem) {
            this(line, node, type, entry, problem, null, null);
        }
    }

    /**
     * An entry line's fields, its recomputed hash, and whether the line is exactly its canonical form;
     * {@code handOver} is the payload of a key hand-over entry.
     */
    private record Entry(long seq, String time, String prevHash, String claimedHash, String computedHash, boolean canonical,
            JsonNode handOver) {
    }

    private final ObjectMapper mapper = new ObjectMapper();
    private final Trust trust;
    private final java.util.Set<Long> seqsOfInterest;

    public AuditVerifier(Trust trust) {
        this(trust, java.util.Set.of());
    }

    /** {@code seqsOfInterest}: entries whose hashes the result reports (to compare with witnessed heads). */
    public AuditVerifier(Trust trust, java.util.Set<Long> seqsOfInterest) {
        this.trust = trust;
        this.seqsOfInterest = seqsOfInterest;
    }

    public Result verify(Reader input) throws IOException {
        BufferedReader reader = input instanceof BufferedReader b ? b : new BufferedReader(input, 1 << 16);
        State st = new State();
        // One thread reads and decodes the file while the others check the previous batch.
        java.util.concurrent.BlockingQueue<List<String>> batches = new java.util.concurrent.ArrayBlockingQueue<>(4);
        IOException[] readFailure = new IOException[1];
        Thread readerThread = new Thread(() -> {
            try {
                while (true) {
                    List<String> batch = new ArrayList<>(BATCH);
                    String line;
                    while (batch.size() < BATCH && (line = reader.readLine()) != null) {
                        batch.add(line);
                    }
                    batches.put(batch);
                    if (batch.isEmpty()) {
                        return;
                    }
                }
            } catch (IOException e) {
                readFailure[0] = e;
                batches.offer(List.of());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "audit-verify-reader");
        readerThread.setDaemon(true);
        readerThread.start();
        try {
            while (true) {
                List<String> batch;
                try {
                    batch = batches.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
                if (batch.isEmpty()) {
                    if (readFailure[0] != null) {
                        throw readFailure[0];
                    }
                    break;
                }
                if (st.lineNo == 0) {
                    // The header first: it carries the key the parallel stage checks checkpoint signatures with.
                    st.lineNo++;
                    check(prepare(batch.get(0), null), st);
                    batch = batch.subList(1, batch.size());
                }
                PublicKey key = st.key;
                List<Prepared> prepared = batch.parallelStream().map(l -> prepare(l, key)).toList();
                for (Prepared p : prepared) {
                    st.lineNo++;
                    check(p, st);
                }
            }
            if (st.lineNo == 0) {
                throw new Failure("the file is empty", null);
            }
            if (!st.sealed) {
                throw new Failure("the export ends without its seal (it was cut off)", st.lastSeq + 1);
            }
        } catch (Failure f) {
            readerThread.interrupt();
            String where = f.seq != null ? "entry seq " + f.seq + " (line " + st.lineNo + ")" : "line " + st.lineNo;
            return new Result(Status.TAMPERED, "FAILED at " + where + ": " + f.getMessage(), st.lineNo, f.seq, st.entries,
                    st.checkpoints, st.fingerprint, List.copyOf(st.keys), st.lastSeq, st.exportedAt, Map.copyOf(st.hashesAt));
        }
        String intact = st.entries + " entries (seq 1.." + st.lastSeq + "), " + st.checkpoints
                + " signed checkpoints, sealed; last hash " + st.lastHash + "; " + describeKeys(st.keys);
        Optional<KeyUse> anchor = st.keys.stream().filter(k -> trust.fingerprints().contains(k.fingerprint())).findFirst();
        Status status;
        String message;
        if (anchor.isPresent()) {
            status = Status.OK;
            KeyUse last = st.keys.get(st.keys.size() - 1);
            message = "OK: " + intact + "; anchored by the trusted key " + anchor.get().fingerprint()
                    + (anchor.get() == last ? "" : " (a key handed over since, to " + last.fingerprint() + " from seq "
                            + last.fromSeq() + "; if that key was retired because it was compromised, verify with --key of "
                            + "the current key or with witnesses)");
        } else if (trust.trustFileKey()) {
            status = Status.OK;
            message = "OK (UNANCHORED: --trust-file-key trusted the key the file carries; this proves the file is "
                    + "consistent, not that the appliance wrote it): " + intact;
        } else if (trust.fingerprints().isEmpty()) {
            status = Status.UNTRUSTED;
            message = "key not trusted: pass --key (a fingerprint from GET /api/audit/key, or the appliance's "
                    + "audit-public-key.pem pinned at install time); the file is intact but signed by " + describeKeys(st.keys);
        } else {
            status = Status.UNTRUSTED;
            message = "key not trusted: the file is signed by " + describeKeys(st.keys) + ", none of which is a trusted key "
                    + trust.fingerprints() + " (a file made or re-signed with another key)";
        }
        return new Result(status, message, st.lineNo, null, st.entries, st.checkpoints, st.fingerprint, List.copyOf(st.keys),
                st.lastSeq, st.exportedAt, Map.copyOf(st.hashesAt));
    }

    private static String describeKeys(List<KeyUse> keys) {
        if (keys.size() == 1) {
            return "signing key SHA-256 " + keys.get(0).fingerprint();
        }
        StringBuilder sb = new StringBuilder("signing keys SHA-256 ");
        for (int i = 0; i < keys.size(); i++) {
            sb.append(i == 0 ? "" : ", then ").append(keys.get(i).fingerprint()).append(" from seq ").append(keys.get(i).fromSeq());
        }
        return sb.toString();
    }

    private static final class State {
        long lineNo;
        long entries;
        long checkpoints;
        long lastSeq;
        String lastHash = AuditHashes.GENESIS;
        /** The key current at this point of the chain. */
        PublicKey key;
        /** The log's first key (the header's). */
        String fingerprint;
        final List<KeyUse> keys = new ArrayList<>();
        String exportedAt;
        String headerExportedAt;
        long lastCheckpointSeq = -1;
        final Map<Long, String> hashesAt = new java.util.HashMap<>();
        boolean sealed;
    }

    /** The per-line work; runs in parallel, so it only reads the line. */
    private Prepared prepare(String line, PublicKey key) {
        if (line.startsWith(ENTRY_START) && line.endsWith(ENTRY_END)) {
            Prepared fast = prepareEntry(line);
            if (fast != null) {
                return fast;
            }
        }
        JsonNode parsed;
        try {
            parsed = mapper.readTree(line);
        } catch (JsonProcessingException e) {
            return new Prepared(line, null, null, null, "not valid JSON");
        }
        if (!(parsed instanceof ObjectNode node)) {
            return new Prepared(line, null, null, null, "not a JSON object");
        }
        JsonNode typeNode = node.get("type");
        String type = typeNode != null && typeNode.isTextual() ? typeNode.textValue() : null;
        if (!"entry".equals(type)) {
            boolean canonical = CanonicalJson.write(node).equals(line);
            Boolean signatureValid = null;
            if ("checkpoint".equals(type) && key != null && canonical) {
                // Ed25519 verification is the costliest step per checkpoint: done here, in parallel.
                JsonNode seq = node.get("seq");
                String hash = str(node, "hash");
                String time = str(node, "time");
                String signature = str(node, "signature");
                signatureValid = seq != null && seq.canConvertToLong() && hash != null && time != null && signature != null
                        && SigningKeys.verify(key, AuditHashes.checkpointSigningInput(seq.longValue(), hash, time), signature);
            }
            return new Prepared(line, node, type, null, canonical ? null : "not in canonical form (the line was edited)",
                    signatureValid, key);
        }
        JsonNode seq = node.get("seq");
        String time = str(node, "time");
        String actor = str(node, "actor");
        String action = str(node, "action");
        String subject = str(node, "subject");
        String prevHash = str(node, "prevHash");
        String claimed = str(node, "hash");
        JsonNode payload = node.get("payload");
        if (seq == null || !seq.isIntegralNumber() || !seq.canConvertToLong() || time == null || actor == null
                || action == null || subject == null || prevHash == null || claimed == null || payload == null) {
            return new Prepared(line, node, type, null, "an entry field is missing or of the wrong type");
        }
        String canonicalPayload = CanonicalJson.write(payload);
        // Rebuilding the line from its fields proves it canonical and free of extra fields.
        boolean canonical = AuditExportFormat.entry(seq.longValue(), time, actor, action, subject, canonicalPayload, prevHash,
                claimed).equals(line);
        String computed = AuditHashes.entryHash(seq.longValue(), time, actor, action, subject, canonicalPayload, prevHash);
        return new Prepared(line, node, type, new Entry(seq.longValue(), time, prevHash, claimed, computed, canonical,
                handOver(action, subject, payload)), null);
    }

    /** Stands for "parsed" on the fast path, where no tree of the line is built. */
    private static final ObjectNode PARSED = new ObjectMapper().createObjectNode();
    private static final String ENTRY_START = "{\"action\":\"";
    private static final String ENTRY_END = ",\"type\":\"entry\"}";

    /**
     * An entry line read field by field in its canonical order, without building a tree of the whole
     * line (the payload alone is parsed). Returns null when the line does not have that exact shape; the
     * general path then says what is wrong with it.
     */
    private Prepared prepareEntry(String line) {
        Scanner sc = new Scanner(line);
        if (!sc.literal("{\"action\":")) {
            return null;
        }
        String action = sc.string();
        String actor = sc.literal(",\"actor\":") ? sc.string() : null;
        String claimed = actor != null && sc.literal(",\"hash\":") ? sc.string() : null;
        if (claimed == null || !sc.literal(",\"payload\":")) {
            return null;
        }
        int payloadStart = sc.pos;
        if (!sc.skipValue()) {
            return null;
        }
        String payloadText = line.substring(payloadStart, sc.pos);
        String prevHash = sc.literal(",\"prevHash\":") ? sc.string() : null;
        long seq = prevHash != null && sc.literal(",\"seq\":") ? sc.integer() : -1;
        String subject = seq >= 0 && sc.literal(",\"subject\":") ? sc.string() : null;
        String time = subject != null && sc.literal(",\"time\":") ? sc.string() : null;
        if (time == null || action == null || !sc.literal(ENTRY_END) || sc.pos != line.length()) {
            return null;
        }
        JsonNode payload;
        try {
            payload = mapper.readTree(payloadText);
        } catch (JsonProcessingException e) {
            return null;
        }
        String canonicalPayload = CanonicalJson.write(payload);
        boolean canonical = canonicalPayload.equals(payloadText)
                && AuditExportFormat.entry(seq, time, actor, action, subject, canonicalPayload, prevHash, claimed).equals(line);
        String computed = AuditHashes.entryHash(seq, time, actor, action, subject, canonicalPayload, prevHash);
        return new Prepared(line, PARSED, "entry", new Entry(seq, time, prevHash, claimed, computed, canonical,
                handOver(action, subject, payload)), null);
    }

    private static JsonNode handOver(String action, String subject, JsonNode payload) {
        return AuditSequencer.KEY_ROTATED.equals(action) && AuditSequencer.KEY_SUBJECT.equals(subject) ? payload : null;
    }

    /** A cursor over one line of canonical JSON. */
    private static final class Scanner {
        final String s;
        int pos;

        Scanner(String s) {
            this.s = s;
        }

        boolean literal(String lit) {
            if (s.startsWith(lit, pos)) {
                pos += lit.length();
                return true;
            }
            return false;
        }

        /** A JSON string at the cursor, decoded; null if there is none. */
        String string() {
            if (pos >= s.length() || s.charAt(pos) != '"') {
                return null;
            }
            StringBuilder out = null;
            int i = pos + 1;
            int runStart = i;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '"') {
                    String v = out == null ? s.substring(runStart, i) : out.append(s, runStart, i).toString();
                    pos = i + 1;
                    return v;
                }
                if (c == '\\') {
                    if (out == null) {
                        out = new StringBuilder();
                    }
                    out.append(s, runStart, i);
                    if (i + 1 >= s.length()) {
                        return null;
                    }
                    char e = s.charAt(i + 1);
                    switch (e) {
                        case '"', '\\', '/' -> out.append(e);
                        case 'b' -> out.append('\b');
                        case 'f' -> out.append('\f');
                        case 'n' -> out.append('\n');
                        case 'r' -> out.append('\r');
                        case 't' -> out.append('\t');
                        case 'u' -> {
                            if (i + 6 > s.length()) {
                                return null;
                            }
                            try {
                                out.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
                            } catch (NumberFormatException bad) {
                                return null;
                            }
                            i += 4;
                        }
                        default -> {
                            return null;
                        }
                    }
                    i += 2;
                    runStart = i;
                    continue;
                }
                if (c < 0x20) {
                    return null;
                }
                i++;
            }
            return null;
        }

        long integer() {
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            if (start == pos || pos - start > 18) {
                return -1;
            }
            return Long.parseLong(s, start, pos, 10);
        }

        /** Skips one JSON value (object, array, string or scalar); false if the line ends first. */
        boolean skipValue() {
            int depth = 0;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == '"') {
                    if (string() == null) {
                        return false;
                    }
                    if (depth == 0) {
                        return true;
                    }
                    continue;
                }
                if (c == '{' || c == '[') {
                    depth++;
                } else if (c == '}' || c == ']') {
                    depth--;
                    if (depth < 0) {
                        return false;
                    }
                    if (depth == 0) {
                        pos++;
                        return true;
                    }
                } else if (depth == 0 && (c == ',')) {
                    return true;
                }
                pos++;
            }
            return false;
        }
    }

    /** The ordered checks; the first one that fails names the line and entry. */
    private void check(Prepared p, State st) throws Failure {
        if (st.sealed) {
            throw new Failure("content after the seal", null);
        }
        long expected = st.lastSeq + 1;
        if (p.node() == null) {
            throw new Failure(p.problem() + " (expected entry seq " + expected + " or its checkpoint)", expected);
        }
        if (st.lineNo == 1) {
            header(p, st);
            return;
        }
        String type = p.type() == null ? "(none)" : p.type();
        switch (type) {
            case "entry" -> {
                Entry e = p.entry();
                if (e == null) {
                    throw new Failure(p.problem(), seqOf(p.node(), expected));
                }
                if (e.seq() != expected) {
                    throw new Failure("expected entry seq " + expected + " but found seq " + e.seq()
                            + " (an entry is missing, duplicated or out of order)", expected);
                }
                if (!e.canonical()) {
                    throw new Failure("not in canonical form or has unknown fields (the line was edited)", e.seq());
                }
                if (!e.prevHash().equals(st.lastHash)) {
                    throw new Failure("prevHash does not match the hash of entry " + st.lastSeq, e.seq());
                }
                if (!e.computedHash().equals(e.claimedHash())) {
                    throw new Failure("content does not match its hash (the entry was altered)", e.seq());
                }
                if (e.handOver() != null) {
                    handOver(e, st);
                }
                st.lastSeq = e.seq();
                st.lastHash = e.computedHash();
                st.entries++;
                if (seqsOfInterest.contains(e.seq())) {
                    st.hashesAt.put(e.seq(), e.computedHash());
                }
            }
            case "checkpoint" -> {
                requireCanonical(p, null);
                fields(p.node(), CHECKPOINT_FIELDS, "checkpoint");
                long seq = number(p.node(), "seq", null);
                if (seq == st.lastCheckpointSeq) {
                    throw new Failure("a second checkpoint for seq " + seq, seq);
                }
                if (seq > st.lastSeq) {
                    throw new Failure("checkpoint for seq " + seq + " but the last entry is seq " + st.lastSeq
                            + " (entries are missing)", st.lastSeq + 1);
                }
                if (seq != st.lastSeq || seq == 0) {
                    throw new Failure("checkpoint for seq " + seq + " does not follow entry " + seq, seq);
                }
                String hash = text(p.node(), "hash", seq);
                if (!hash.equals(st.lastHash)) {
                    throw new Failure("checkpoint hash differs from entry " + seq, seq);
                }
                byte[] signed = AuditHashes.checkpointSigningInput(seq, hash, text(p.node(), "time", seq));
                // checked in parallel with the header's key; after a hand-over, again here with the current key
                boolean valid = p.signatureValid() != null && p.signedBy() == st.key ? p.signatureValid()
                        : SigningKeys.verify(st.key, signed, text(p.node(), "signature", seq));
                if (!valid) {
                    throw new Failure("checkpoint signature is invalid", seq);
                }
                st.checkpoints++;
                st.lastCheckpointSeq = seq;
            }
            case "seal" -> {
                requireCanonical(p, null);
                ObjectNode node = p.node();
                fields(node, SEAL_FIELDS, "seal");
                long sealEntries = number(node, "entries", null);
                long sealCheckpoints = number(node, "checkpoints", null);
                long firstSeq = number(node, "firstSeq", null);
                long sealLast = number(node, "lastSeq", null);
                String sealHash = text(node, "lastHash", null);
                String body = AuditExportFormat.sealBody(sealEntries, firstSeq, sealLast, sealHash, sealCheckpoints,
                        text(node, "keyFingerprint", null), text(node, "exportedAt", null));
                String current = st.keys.get(st.keys.size() - 1).fingerprint();
                if (!current.equals(text(node, "keyFingerprint", null))) {
                    throw new Failure("the seal names key " + text(node, "keyFingerprint", null) + " but the key current at "
                            + "the end of the chain is " + current, null);
                }
                if (!SigningKeys.verify(st.key, body.getBytes(StandardCharsets.UTF_8), text(node, "signature", null))) {
                    throw new Failure("the export seal's signature is invalid", null);
                }
                st.exportedAt = text(node, "exportedAt", null);
                if (sealLast != st.lastSeq || !sealHash.equals(st.lastHash) || sealEntries != st.entries) {
                    throw new Failure("the seal covers " + sealEntries + " entries up to seq " + sealLast
                            + " but the file holds " + st.entries + " up to seq " + st.lastSeq
                            + " (entries were removed or added)", st.lastSeq + 1);
                }
                if (sealCheckpoints != st.checkpoints) {
                    throw new Failure("the seal counts " + sealCheckpoints + " checkpoints but the file holds " + st.checkpoints
                            + " (checkpoints were removed or added)", null);
                }
                if (!st.exportedAt.equals(st.headerExportedAt)) {
                    throw new Failure("the header's exportedAt " + st.headerExportedAt + " is not the seal's " + st.exportedAt,
                            null);
                }
                st.sealed = true;
            }
            case "header" -> throw new Failure("a second header", null);
            default -> throw new Failure("unknown line type \"" + type + "\"", seqOf(p.node(), expected));
        }
    }

    private void header(Prepared p, State st) throws Failure {
        if (!"header".equals(p.type())) {
            throw new Failure("the first line must be the export header, found \"" + p.type() + "\"", null);
        }
        requireCanonical(p, null);
        fields(p.node(), HEADER_FIELDS, "header");
        st.headerExportedAt = text(p.node(), "exportedAt", null);
        if (!AuditExportFormat.FORMAT.equals(text(p.node(), "format", null))) {
            throw new Failure("unknown export format " + p.node().get("format"), null);
        }
        try {
            st.key = SigningKeys.publicKeyFromBase64(text(p.node(), "publicKey", null));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new Failure("the header's public key is not an Ed25519 or EC public key", null);
        }
        st.fingerprint = SigningKeys.fingerprint(st.key);
        if (!st.fingerprint.equals(text(p.node(), "keyFingerprint", null))) {
            throw new Failure("the header's key fingerprint does not match its key", null);
        }
        st.keys.add(new KeyUse(st.fingerprint, st.key, 1));
    }

    /**
     * A key hand-over: the current key signs its successor, the successor signs the history it takes over
     * (both over {@link AuditHashes#handOverSigningInput}); from this entry on the successor signs.
     */
    private static void handOver(Entry e, State st) throws Failure {
        JsonNode h = e.handOver();
        String previous = str(h, "previousFingerprint");
        String next = str(h, "newFingerprint");
        String nextKeyB64 = str(h, "newPublicKey");
        String current = st.keys.get(st.keys.size() - 1).fingerprint();
        if (previous == null || next == null || nextKeyB64 == null) {
            throw new Failure("key hand-over without previousFingerprint, newFingerprint and newPublicKey", e.seq());
        }
        if (!previous.equals(current)) {
            throw new Failure("key hand-over from " + previous + " but the current key is " + current, e.seq());
        }
        PublicKey nextKey;
        try {
            nextKey = SigningKeys.publicKeyFromBase64(nextKeyB64);
        } catch (GeneralSecurityException | IllegalArgumentException bad) {
            throw new Failure("key hand-over to a key that is not a public key", e.seq());
        }
        if (!SigningKeys.fingerprint(nextKey).equals(next)) {
            throw new Failure("key hand-over: newFingerprint is not the fingerprint of newPublicKey", e.seq());
        }
        byte[] signed = AuditHashes.handOverSigningInput(e.seq(), e.prevHash(), e.time(), previous, next, nextKeyB64);
        if (!SigningKeys.verify(st.key, signed, str(h, "handOverSignature"))) {
            throw new Failure("key hand-over not signed by the current key " + current, e.seq());
        }
        if (!SigningKeys.verify(nextKey, signed, str(h, "acceptanceSignature"))) {
            throw new Failure("key hand-over not signed by the new key " + next, e.seq());
        }
        st.key = nextKey;
        st.keys.add(new KeyUse(next, nextKey, e.seq()));
    }

    private static final java.util.Set<String> HEADER_FIELDS = java.util.Set.of("exportedAt", "format", "keyFingerprint",
            "publicKey", "type");
    private static final java.util.Set<String> CHECKPOINT_FIELDS = java.util.Set.of("hash", "seq", "signature", "time", "type");
    private static final java.util.Set<String> SEAL_FIELDS = java.util.Set.of("checkpoints", "entries", "exportedAt", "firstSeq",
            "keyFingerprint", "lastHash", "lastSeq", "signature", "type");

    /** Exactly the fields of its kind: nothing unsigned rides along in an export. */
    private static void fields(ObjectNode node, java.util.Set<String> expected, String kind) throws Failure {
        java.util.Set<String> present = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(present::add);
        if (!present.equals(new java.util.TreeSet<>(expected))) {
            throw new Failure("the " + kind + " line has fields " + present + ", expected " + new java.util.TreeSet<>(expected),
                    null);
        }
    }

    private static void requireCanonical(Prepared p, Long seq) throws Failure {
        if (p.problem() != null) {
            throw new Failure(p.problem(), seq);
        }
    }

    private static Long seqOf(ObjectNode node, long fallback) {
        JsonNode seq = node.get("seq");
        return seq != null && seq.canConvertToLong() ? Long.valueOf(seq.longValue()) : Long.valueOf(fallback);
    }

    private static String str(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? v.textValue() : null;
    }

    private static String text(JsonNode node, String field, Long seq) throws Failure {
        String v = str(node, field);
        if (v == null) {
            throw new Failure("missing or non-text field \"" + field + "\"", seq);
        }
        return v;
    }

    private static long number(JsonNode node, String field, Long seq) throws Failure {
        JsonNode v = node.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new Failure("missing or non-integer field \"" + field + "\"", seq);
        }
        return v.longValue();
    }
}
