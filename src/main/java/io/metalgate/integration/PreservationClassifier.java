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

    /** What a person's e-mail is, for the mailbox watcher. */
    public enum MailKind {
        /** Its subject or its own text uses words of preservation, litigation or objection: hold, and a person reviews. */
        PRESERVATION,
        /** Its content cannot be read whole (an attachment, no text part, a part that does not decode): hold, and a person reviews. */
        UNSURE,
        /** Readable, and nothing in its own text looks like a preservation request. */
        NONE
    }

    /** The verdict on an e-mail, and why. */
    public record MailVerdict(MailKind kind, String why) {
    }

    /**
     * Classifies a person's e-mail, conservatively: a match of {@link #STEMS} in the subject or in the text the sender
     * wrote (quotes of earlier messages, which for a reply to a notice quote the notice's own words, are left out by
     * {@link #ownText}) is PRESERVATION; a message whose content is not all readable text ({@code unreadable}: what it
     * is, e.g. "attachment report.pdf") is UNSURE; only a readable message with no match is NONE.
     */
    public static MailVerdict classifyMail(String subject, String text, String unreadable) {
        Optional<String> s = subject == null ? Optional.empty() : stem(subject);
        if (s.isPresent()) {
            return new MailVerdict(MailKind.PRESERVATION, "subject: '" + s.get() + "'");
        }
        Optional<String> t = text == null ? Optional.empty() : stem(ownText(text));
        if (t.isPresent()) {
            return new MailVerdict(MailKind.PRESERVATION, "text: '" + t.get() + "'");
        }
        if (unreadable != null) {
            return new MailVerdict(MailKind.UNSURE, "cannot read all of it (" + unreadable + "); held until a person has");
        }
        if (text == null || ownText(text).isBlank()) {
            return new MailVerdict(MailKind.UNSURE, "no text of its own; held until a person has read it");
        }
        return new MailVerdict(MailKind.NONE, "readable, no word of preservation in its subject or its own text");
    }

    /** Lines that start the quote of an earlier message in common mail clients (English, German, French, Spanish, Dutch). */
    private static final java.util.regex.Pattern QUOTE_HEADER = java.util.regex.Pattern.compile(
            "(?i)^\\s*(on .{3,200} wrote:|am .{3,200} schrieb .{0,100}:|le .{3,200} a (e|é)crit ?:|el .{3,200} escribi(o|ó):|op .{3,200} schreef .{0,100}:"
                    + "|-{2,}\\s*(original message|urspr(u|ü)ngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht)\\s*-{2,}"
                    + "|_{10,})\\s*$");

    /** The text the sender wrote: up to the first quote header, without lines quoted with {@code >}. */
    public static String ownText(String text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\\r?\\n", -1)) {
            if (QUOTE_HEADER.matcher(line).matches()) {
                break;
            }
            if (!line.stripLeading().startsWith(">")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }
}
