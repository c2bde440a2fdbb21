package io.metalgate.integration;

import com.fasterxml.jackson.databind.JsonNode;
import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Does an inbound message look like a request to preserve data? domain.md: any inbound message that looks
 * like a preservation request places a PRESERVATION_REQUEST hold at once, for a human to review; when
 * unsure, hold. So this errs on the side of holding: it looks at every key and every text of the message,
 * in any letter case and with accents folded, for words of preservation, litigation and objection, in
 * English, German, French, Spanish and Dutch. A false hold costs a review; a missed one costs the data.
 */
public final class PreservationClassifier {

    /** Word stems; a key or text containing one of them is a match. */
    static final List<String> STEMS = List.of(
            "preserv", "legal hold", "legalhold", "legal_hold", "litigation", "litigat", "lawsuit", "lawyer", "attorney", "counsel",
            "subpoena", "court", "evidence", "forensic", "discovery", "dispute", "chargeback", "do not erase", "dont erase", "don't erase",
            "do not delete", "dont delete", "don't delete", "do not wipe", "don't wipe", "no erase", "no wipe", "keep data", "keep the data",
            "keep our data", "retain data", "retain the data", "retention", "backup", "export", "hold",
            "aufbewahr", "sicherung", "gericht", "anwalt", "nicht loschen", "beweis", "rechtsstreit",
            "conserv", "avocat", "tribunal", "ne pas effacer", "ne pas supprimer", "litige", "preuve",
            "abogado", "no borrar", "demanda", "bewaren", "advocaat", "niet wissen", "rechtbank");

    private PreservationClassifier() {
    }

    /** What matched ({@code "details.note: 'preserv'"}), or empty when nothing in the message looks like a preservation request. */
    public static Optional<String> match(JsonNode message) {
        return message == null ? Optional.empty() : walk("", message);
    }

    private static Optional<String> walk(String path, JsonNode node) {
        if (node.isObject()) {
            for (var it = node.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                Optional<String> key = stem(e.getKey());
                if (key.isPresent() && !isNegative(e.getValue())) {
                    return Optional.of(at + ": key '" + key.get() + "'");
                }
                Optional<String> inner = walk(at, e.getValue());
                if (inner.isPresent()) {
                    return inner;
                }
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                Optional<String> inner = walk(path + "[" + i + "]", node.get(i));
                if (inner.isPresent()) {
                    return inner;
                }
            }
        } else if (node.isTextual()) {
            return stem(node.asText()).map(s -> path + ": '" + s + "'");
        }
        return Optional.empty();
    }

    /** {@code "preserve": false} or {@code null} says no; anything else under such a key is taken as yes. */
    private static boolean isNegative(JsonNode v) {
        return v.isNull() || (v.isBoolean() && !v.asBoolean()) || (v.isTextual() && v.asText().strip().matches("(?i)no|false|none|0|"));
    }

    static Optional<String> stem(String text) {
        String folded = Normalizer.normalize(text, Normalizer.Form.NFKD).replaceAll("\\p{M}", "").toLowerCase(Locale.ROOT)
                .replace('’', '\'').replaceAll("[\\s_-]+", " ");
        for (String s : STEMS) {
            if (folded.contains(s.replace('_', ' '))) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
