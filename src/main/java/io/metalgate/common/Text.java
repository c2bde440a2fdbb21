package io.metalgate.common;

/**
 * What text the API accepts. Every string refuses NUL (PostgreSQL cannot store it), the other control
 * characters but tab, line feed and carriage return, and unpaired surrogates (they cannot be encoded).
 * A name-like single-line field (a name, rack, host, user name, external reference) must moreover be
 * printable: no control character at all, no format character (bidi overrides and isolates, zero-width
 * characters, BOM, soft hyphen), no line or paragraph separator, no private-use character.
 */
public final class Text {

    private Text() {
    }

    /** Why {@code s} is not acceptable in any string field, or null if it is. */
    public static String refusedAnywhere(String s) {
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.CONTROL && cp != '\t' && cp != '\n' && cp != '\r') {
                return "must not contain the control character " + codePoint(cp) + " (at " + (i + 1) + ")";
            }
            if (type == Character.SURROGATE) {
                return "must not contain an unpaired surrogate " + codePoint(cp) + " (at " + (i + 1) + ")";
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    /** Why {@code s} is not acceptable in a single-line printable field, or null if it is. */
    public static String refusedInName(String s) {
        String anywhere = refusedAnywhere(s);
        if (anywhere != null) {
            return anywhere;
        }
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            switch (Character.getType(cp)) {
                case Character.CONTROL, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> {
                    return "must be a single line of printable characters: " + codePoint(cp) + " (at " + (i + 1) + ") is a line break or control character";
                }
                case Character.FORMAT -> {
                    return "must be printable: " + codePoint(cp) + " (at " + (i + 1) + ") is an invisible format character (such as a bidi override)";
                }
                case Character.PRIVATE_USE -> {
                    return "must be printable: " + codePoint(cp) + " (at " + (i + 1) + ") is a private-use character";
                }
                default -> {
                }
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    private static String codePoint(int cp) {
        return String.format("U+%04X", cp);
    }
}
