package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code certificate verify} across key hand-overs, offline with keys of its own (the appliance's side is
 * {@code conductor.EraseCertificateApiTest}): a certificate verifies with the key of its time, and with another key of
 * the history only through hand-overs signed by both keys and only for what its key signed while it was the signing
 * key; anything in the file that no signature covers is an alteration.
 */
class CertificateCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Key(KeyPair pair, String fingerprint, String base64) {
        static Key fresh() {
            KeyPair p = SigningKeys.generate();
            return new Key(p, SigningKeys.fingerprint(p.getPublic()), Base64.getEncoder().encodeToString(p.getPublic().getEncoded()));
        }

        String sign(byte[] data) {
            return SigningKeys.sign(pair.getPrivate(), data);
        }
    }

    /** The key history as the appliance gives it: the first key from seq 1, then each key with its hand-over. */
    static ArrayNode history(Key first, Object... handOvers) {
        ArrayNode h = JSON.createArrayNode();
        h.addObject().put("fingerprint", first.fingerprint()).put("publicKey", first.base64()).put("fromSeq", 1);
        Key prev = first;
        for (int i = 0; i < handOvers.length; i += 3) {
            Key next = (Key) handOvers[i];
            long seq = (Long) handOvers[i + 1];
            String time = AuditHashes.formatTime((Instant) handOvers[i + 2]);
            String prevHash = "ab".repeat(32);
            byte[] signed = AuditHashes.handOverSigningInput(seq, prevHash, time, prev.fingerprint(), next.fingerprint(), next.base64());
            ObjectNode l = h.addObject().put("fingerprint", next.fingerprint()).put("publicKey", next.base64()).put("fromSeq", seq);
            l.putObject("handOver").put("prevHash", prevHash).put("time", time).put("handOverSignature", prev.sign(signed))
                    .put("acceptanceSignature", next.sign(signed));
            prev = next;
        }
        return h;
    }

    /** A certificate signed by {@code key}, issued at {@code issued}, in the appliance's format. */
    static ObjectNode certificate(Key key, Instant issued, ArrayNode history) {
        String id = UUID.randomUUID().toString();
        String machine = UUID.randomUUID().toString();
        ObjectNode body = JSON.createObjectNode().put("type", "metalgate-erase-certificate/1").put("id", id).put("issuedAt", issued.toString());
        body.putObject("machine").put("id", machine).put("serialNumber", "SRV-1");
        body.putArray("disks").addObject().put("serialNumber", "DISK-1").put("method", "PURGE").put("technique", "Sanitize: Block Erase");
        body.putObject("decision").put("auditSeq", 42).put("requestedBy", "alice");
        body.put("signingKey", key.fingerprint());
        ObjectNode c = JSON.createObjectNode().put("id", id).put("machineId", machine).put("issuedAt", issued.toString());
        c.set("body", body);
        c.put("signature", key.sign(CanonicalJson.write(body).getBytes(StandardCharsets.UTF_8))).put("keyFingerprint", key.fingerprint())
                .put("publicKey", key.base64());
        if (history != null) {
            c.set("keyHistory", history);
        }
        return c;
    }

    record Run(int code, String out) {
    }

    Run verify(Object file, String... keys) throws Exception {
        Path f = Files.createTempFile(dir, "certificate", ".json");
        Files.writeString(f, file instanceof String s ? s : JSON.writeValueAsString(file));
        String[] args = new String[3 + 2 * keys.length];
        args[0] = "certificate";
        args[1] = "verify";
        args[2] = f.toString();
        for (int i = 0; i < keys.length; i++) {
            args[3 + 2 * i] = "--key";
            args[4 + 2 * i] = keys[i];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = CertificateCli.run(args, ps, ps, Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aCertificateVerifiesWithTheKeyOfItsTimeAndThroughHandOversWithTheOthers() throws Exception {
        Key a = Key.fresh();
        Key b = Key.fresh();
        Instant rotated = Instant.parse("2026-03-01T12:00:00.000001Z");
        ArrayNode h = history(a, b, 57L, rotated);
        ObjectNode before = certificate(a, rotated.minus(Duration.ofDays(3)), h);
        ObjectNode after = certificate(b, rotated.plus(Duration.ofDays(3)), h);

        // before the hand-over, by the old key: with the old key, and with the new one through the hand-over it signed
        assertEquals(0, verify(before, a.fingerprint()).code());
        Run viaNew = verify(before, b.fingerprint());
        assertEquals(0, viaNew.code(), viaNew.out());
        assertTrue(viaNew.out().contains("through the key hand-over(s) to the trusted key " + b.fingerprint()), viaNew.out());
        // after it, by the new key: with the new key, and with the old (pinned) one, which signed its successor in
        assertEquals(0, verify(after, b.fingerprint()).code());
        Run viaOld = verify(after, a.fingerprint());
        assertEquals(0, viaOld.code(), viaOld.out());
        assertTrue(viaOld.out().contains("from the trusted key " + a.fingerprint()), viaOld.out());

        // without hand-over evidence another key is not trusted: exit 3, never "valid"
        before.remove("keyHistory");
        after.remove("keyHistory");
        assertEquals(3, verify(before, b.fingerprint()).code());
        Run noEvidence = verify(after, a.fingerprint());
        assertEquals(3, noEvidence.code(), noEvidence.out());
        assertTrue(noEvidence.out().contains("UNTRUSTED") && noEvidence.out().contains("carries no key hand-overs"), noEvidence.out());
        assertEquals(0, verify(after, b.fingerprint()).code());
        assertEquals(0, verify(before, a.fingerprint()).code());
    }

    @Test
    void aRetiredKeyIsTrustedThroughTheHistoryOnlyForWhatItSignedWhileItSigned() throws Exception {
        Key a = Key.fresh();
        Key b = Key.fresh();
        Key c = Key.fresh();
        Instant first = Instant.parse("2026-03-01T12:00:00Z");
        Instant second = Instant.parse("2026-06-01T12:00:00Z");
        ArrayNode h = history(a, b, 57L, first, c, 900L, second);
        // two hops: the first key's certificate with the third key as the anchor, and the other way round
        assertEquals(0, verify(certificate(a, first.minusSeconds(60), h), c.fingerprint()).code());
        assertEquals(0, verify(certificate(c, second.plusSeconds(60), h), a.fingerprint()).code());
        assertEquals(0, verify(certificate(b, first.plusSeconds(60), h), a.fingerprint(), c.fingerprint()).code());
        // the old key signing after it handed over (whoever kept it): not through the history...
        Run late = verify(certificate(a, first.plusSeconds(60), h), c.fingerprint());
        assertEquals(3, late.code(), late.out());
        assertTrue(late.out().contains("had handed the signing over to " + b.fingerprint()), late.out());
        assertEquals(3, verify(certificate(b, second.plusSeconds(1), h), a.fingerprint()).code());
        // ... nor a key dated before it was handed the signing
        assertEquals(3, verify(certificate(c, second.minusSeconds(1), h), a.fingerprint()).code());
        // only an auditor who names that key itself accepts it (decision 0011's retired-key caveat)
        assertEquals(0, verify(certificate(a, first.plusSeconds(60), h), a.fingerprint()).code());
        // nothing to go on: no key given and none pinned
        assertEquals(3, verify(certificate(a, first.minusSeconds(60), h)).code());
    }

    @Test
    void anythingNoSignatureCoversIsAnAlteration() throws Exception {
        Key a = Key.fresh();
        Key b = Key.fresh();
        Key mallory = Key.fresh();
        Instant rotated = Instant.parse("2026-03-01T12:00:00Z");
        ObjectNode good = certificate(b, rotated.plusSeconds(3600), history(a, b, 57L, rotated));
        assertEquals(0, verify(good, a.fingerprint()).code());

        // a hand-over to a key of one's own, signed by that key but not by the key it claims to follow
        ObjectNode forged = certificate(mallory, rotated.plusSeconds(3600), history(a, mallory, 57L, rotated));
        ((ObjectNode) forged.get("keyHistory").get(1).get("handOver")).put("handOverSignature", mallory.sign(new byte[] {1}));
        Run r = verify(forged, a.fingerprint());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().contains("not signed by the key it hands over from"), r.out());
        // the history, the fields beside the body, an added field: each an alteration
        ObjectNode moved = good.deepCopy();
        ((ObjectNode) moved.get("keyHistory").get(1).get("handOver")).put("time", AuditHashes.formatTime(rotated.minusSeconds(86400)));
        assertEquals(1, verify(moved, a.fingerprint()).code());
        ObjectNode genesis = good.deepCopy();
        ((ObjectNode) genesis.get("keyHistory").get(0)).put("fromSeq", 2);
        assertEquals(1, verify(genesis, b.fingerprint()).code());
        ObjectNode issued = good.deepCopy().put("issuedAt", rotated.minusSeconds(5).toString());
        assertEquals(1, verify(issued, b.fingerprint()).code());
        ObjectNode machine = good.deepCopy().put("machineId", UUID.randomUUID().toString());
        assertEquals(1, verify(machine, b.fingerprint()).code());
        ObjectNode extra = good.deepCopy().put("verifiedBy", "an auditor");
        assertEquals(1, verify(extra, b.fingerprint()).code());
        ObjectNode otherKey = good.deepCopy().put("publicKey", a.base64()).put("keyFingerprint", a.fingerprint());
        assertEquals(1, verify(otherKey, a.fingerprint()).code());
        // a second spelling of the same signature (the last character's spare bits) is not the signature
        String sig = good.get("signature").asText();
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char last = alphabet.charAt(alphabet.indexOf(sig.charAt(sig.length() - 3)) ^ 1); // one of the 4 bits 64 bytes leave over
        String respelled = sig.substring(0, sig.length() - 3) + last + "==";
        assertTrue(java.util.Arrays.equals(Base64.getDecoder().decode(sig), Base64.getDecoder().decode(respelled)), "same bytes");
        assertEquals(1, verify(good.deepCopy().put("signature", respelled), b.fingerprint()).code());
        // a field given twice is not read either way; an empty list is not a certificate
        String json = JSON.writeValueAsString(good);
        assertEquals(2, verify(json.replaceFirst("\\{\"id\":", "{\"id\":\"x\",\"id\":"), b.fingerprint()).code());
        assertEquals(2, verify("[]", b.fingerprint()).code());
    }
}
