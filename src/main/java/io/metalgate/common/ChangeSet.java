package io.metalgate.common;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Applies a partial update field by field and remembers what changed ({@code field → {from, to}}), for
 * the audit entry of the update. A null request value means "leave as it is".
 */
public final class ChangeSet {

    private final Map<String, Object> changes = new LinkedHashMap<>();

    public <T> T apply(String field, T current, T requested) {
        if (requested == null || Objects.equals(current, requested)) {
            return current;
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("from", plain(current));
        c.put("to", plain(requested));
        changes.put(field, c);
        return requested;
    }

    /** Like {@link #apply}, but null is a value too (a field cleared on purpose). */
    public <T> T set(String field, T current, T requested) {
        if (Objects.equals(current, requested)) {
            return current;
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("from", plain(current));
        c.put("to", plain(requested));
        changes.put(field, c);
        return requested;
    }

    /** Records that a field changed without recording its values (secrets). */
    public void changedSecret(String field) {
        changes.put(field, "changed");
    }

    /** Whether {@code field} changed. */
    public boolean changed(String field) {
        return changes.containsKey(field);
    }

    public boolean isEmpty() {
        return changes.isEmpty();
    }

    public Map<String, Object> asPayload() {
        return Map.of("changes", changes);
    }

    private static Object plain(Object v) {
        if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) {
            return v;
        }
        return v instanceof Enum<?> e ? e.name() : v.toString();
    }
}
