package io.metalgate.evidence;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;

/**
 * The audit export: one JSON Lines file, every line RFC 8785 canonical JSON.
 *
 * <pre>
 * {"type":"header", "format":"metalgate-audit-export/1", "publicKey", "keyFingerprint", "exportedAt"}  -- the key that signs from seq 1
 * {"type":"entry", seq, time, actor, action, subject, payload, prevHash, hash}   -- seq 1, 2, 3, ...
 * {"type":"checkpoint", seq, hash, time, signature}                           -- right after entry seq
 * ...
 * {"type":"seal", checkpoints, entries, firstSeq, lastSeq, lastHash, keyFingerprint, exportedAt, signature}
 * </pre>
 *
 * The seal is signed over its own canonical form without {@code signature}; it pins the end of the
 * export and the number of checkpoints in it, so removing trailing entries or checkpoints is detected too. The header carries the log's first key; each key
 * hand-over entry ({@code audit.key-rotated}, signed by the old and the new key) names its successor, and
 * checkpoints and the seal are signed by the key current at their place in the chain. Because every line must be canonical, a change
 * of any byte of a line (even insignificant whitespace) fails verification.
 */
public final class AuditExportFormat {

    public static final String FORMAT = "metalgate-audit-export/1";

    private AuditExportFormat() {
    }

    public static String header(PublicKey key, String exportedAt) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"exportedAt\":");
        CanonicalJson.writeString(exportedAt, sb);
        sb.append(",\"format\":");
        CanonicalJson.writeString(FORMAT, sb);
        sb.append(",\"keyFingerprint\":");
        CanonicalJson.writeString(SigningKeys.fingerprint(key), sb);
        sb.append(",\"publicKey\":");
        CanonicalJson.writeString(Base64.getEncoder().encodeToString(key.getEncoded()), sb);
        sb.append(",\"type\":\"header\"}");
        return sb.toString();
    }

    public static String entry(long seq, String time, String actor, String action, String subject,
            String canonicalPayload, String prevHash, String hash) {
        StringBuilder sb = new StringBuilder(200 + canonicalPayload.length());
        sb.append("{\"action\":");
        CanonicalJson.writeString(action, sb);
        sb.append(",\"actor\":");
        CanonicalJson.writeString(actor, sb);
        sb.append(",\"hash\":");
        CanonicalJson.writeString(hash, sb);
        sb.append(",\"payload\":").append(canonicalPayload);
        sb.append(",\"prevHash\":");
        CanonicalJson.writeString(prevHash, sb);
        sb.append(",\"seq\":").append(seq);
        sb.append(",\"subject\":");
        CanonicalJson.writeString(subject, sb);
        sb.append(",\"time\":");
        CanonicalJson.writeString(time, sb);
        sb.append(",\"type\":\"entry\"}");
        return sb.toString();
    }

    public static String checkpoint(long seq, String hash, String time, String signature) {
        StringBuilder sb = new StringBuilder(200);
        sb.append("{\"hash\":");
        CanonicalJson.writeString(hash, sb);
        sb.append(",\"seq\":").append(seq);
        sb.append(",\"signature\":");
        CanonicalJson.writeString(signature, sb);
        sb.append(",\"time\":");
        CanonicalJson.writeString(time, sb);
        sb.append(",\"type\":\"checkpoint\"}");
        return sb.toString();
    }

    /**
     * A signed checkpoint as witnesses keep it (one JSON Lines record): {@code log} names the log (its genesis
     * key's fingerprint, so one witness file can serve several appliances), {@code keyFingerprint} the key that
     * signed it. {@code audit verify FILE --witness HEADS} checks every such head against the export.
     */
    public static String witnessedHead(String log, long seq, String hash, String time, String keyFingerprint,
            String signature) {
        StringBuilder sb = new StringBuilder(300);
        sb.append("{\"hash\":");
        CanonicalJson.writeString(hash, sb);
        sb.append(",\"keyFingerprint\":");
        CanonicalJson.writeString(keyFingerprint, sb);
        sb.append(",\"log\":");
        CanonicalJson.writeString(log, sb);
        sb.append(",\"seq\":").append(seq);
        sb.append(",\"signature\":");
        CanonicalJson.writeString(signature, sb);
        sb.append(",\"time\":");
        CanonicalJson.writeString(time, sb);
        sb.append(",\"type\":\"audit-head\"}");
        return sb.toString();
    }

    /** A witnessed head with the RFC 3161 token a time-stamp authority issued over its exact bytes. */
    public static String timeStampedHead(String head, String tokenBase64) {
        StringBuilder sb = new StringBuilder(head.length() + tokenBase64.length() + 40);
        sb.append("{\"head\":");
        CanonicalJson.writeString(head, sb);
        sb.append(",\"tsaToken\":");
        CanonicalJson.writeString(tokenBase64, sb);
        sb.append(",\"type\":\"audit-head-timestamp\"}");
        return sb.toString();
    }

    /** The part of a seal its signature covers. */
    public static String sealBody(long entries, long firstSeq, long lastSeq, String lastHash, long checkpoints,
            String keyFingerprint, String exportedAt) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"checkpoints\":").append(checkpoints);
        sb.append(",\"entries\":").append(entries);
        sb.append(",\"exportedAt\":");
        CanonicalJson.writeString(exportedAt, sb);
        sb.append(",\"firstSeq\":").append(firstSeq);
        sb.append(",\"keyFingerprint\":");
        CanonicalJson.writeString(keyFingerprint, sb);
        sb.append(",\"lastHash\":");
        CanonicalJson.writeString(lastHash, sb);
        sb.append(",\"lastSeq\":").append(lastSeq);
        sb.append(",\"type\":\"seal\"}");
        return sb.toString();
    }

    public static String seal(long entries, long firstSeq, long lastSeq, String lastHash, long checkpoints, KeyPair key,
            String exportedAt) {
        return seal(entries, firstSeq, lastSeq, lastHash, checkpoints, new AuditSigningKey.FileSigner(key, null), exportedAt);
    }

    public static String seal(long entries, long firstSeq, long lastSeq, String lastHash, long checkpoints, AuditSigner key,
            String exportedAt) {
        String fingerprint = key.fingerprint();
        String body = sealBody(entries, firstSeq, lastSeq, lastHash, checkpoints, fingerprint, exportedAt);
        String signature = key.sign(body.getBytes(StandardCharsets.UTF_8));
        StringBuilder sb = new StringBuilder(body.length() + 120);
        sb.append("{\"checkpoints\":").append(checkpoints);
        sb.append(",\"entries\":").append(entries);
        sb.append(",\"exportedAt\":");
        CanonicalJson.writeString(exportedAt, sb);
        sb.append(",\"firstSeq\":").append(firstSeq);
        sb.append(",\"keyFingerprint\":");
        CanonicalJson.writeString(fingerprint, sb);
        sb.append(",\"lastHash\":");
        CanonicalJson.writeString(lastHash, sb);
        sb.append(",\"lastSeq\":").append(lastSeq);
        sb.append(",\"signature\":");
        CanonicalJson.writeString(signature, sb);
        sb.append(",\"type\":\"seal\"}");
        return sb.toString();
    }
}
