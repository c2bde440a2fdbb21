package io.metalgate.common;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A state machine as data: one row per (from, event) → to, with the name of the guard that must hold
 * (checked by the caller, e.g. the gate) and the code path that fires it. Built once, read everywhere;
 * the state diagram in the docs is generated from it, never drawn by hand.
 */
public final class Transitions<S extends Enum<S>, E extends Enum<E>> {

    /** One row of the table. */
    public record Row<S, E>(S from, E event, S to, String guard, String firedBy) {
    }

    private final Class<E> events;
    private final List<Row<S, E>> rows;

    private Transitions(Class<E> events, List<Row<S, E>> rows) {
        this.events = events;
        this.rows = List.copyOf(rows);
    }

    public static <S extends Enum<S>, E extends Enum<E>> Builder<S, E> builder(Class<E> events) {
        return new Builder<>(events);
    }

    public List<Row<S, E>> rows() {
        return rows;
    }

    /** The row for {@code event} in {@code from}, if the table has one. */
    public Optional<Row<S, E>> find(S from, E event) {
        return rows.stream().filter(r -> r.from() == from && r.event() == event).findFirst();
    }

    /** The events allowed in {@code from}, for a 409's "allowed events". */
    public Set<E> allowedEvents(S from) {
        Set<E> out = EnumSet.noneOf(events);
        rows.stream().filter(r -> r.from() == from).forEach(r -> out.add(r.event()));
        return out;
    }

    /** Mermaid state diagram of the table (docs). */
    public String mermaid() {
        StringBuilder sb = new StringBuilder("stateDiagram-v2\n");
        for (Row<S, E> r : rows) {
            sb.append("    ").append(r.from()).append(" --> ").append(r.to()).append(" : ").append(r.event());
            if (!r.guard().isEmpty()) {
                sb.append(" [").append(r.guard()).append(']');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Collects rows; refuses two rows for the same (from, event). */
    public static final class Builder<S extends Enum<S>, E extends Enum<E>> {
        private final Class<E> events;
        private final List<Row<S, E>> rows = new ArrayList<>();

        private Builder(Class<E> events) {
            this.events = events;
        }

        public Builder<S, E> on(S from, E event, S to, String guard, String firedBy) {
            if (rows.stream().anyMatch(r -> r.from() == from && r.event() == event)) {
                throw new IllegalArgumentException("two transitions for " + from + " on " + event);
            }
            rows.add(new Row<>(from, event, to, guard, firedBy));
            return this;
        }

        @SafeVarargs
        public final Builder<S, E> onEach(E event, S to, String guard, String firedBy, S... from) {
            for (S s : from) {
                on(s, event, to, guard, firedBy);
            }
            return this;
        }

        public Transitions<S, E> build() {
            return new Transitions<>(events, rows);
        }
    }
}
