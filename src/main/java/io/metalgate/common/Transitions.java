package io.metalgate.common;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A state machine as data: one row per (from, event) → to, with its guard — a named predicate over the
 * context {@code C} the caller gives when it fires the row — and the code path that fires it. Built once,
 * read everywhere; the state diagram in the docs is generated from it, never drawn by hand.
 */
public final class Transitions<S extends Enum<S>, E extends Enum<E>, C> {

    /** A named condition a row needs in its context; {@link #none()} always holds. */
    public record Guard<C>(String name, Predicate<C> holds) {

        public static <C> Guard<C> none() {
            return new Guard<>("", c -> true);
        }
    }

    /** One row of the table. */
    public record Row<S, E, C>(S from, E event, S to, Guard<C> check, String firedBy) {

        /** The guard's name ("" when there is none). */
        public String guard() {
            return check.name();
        }

        /** Whether the guard holds in {@code context}. */
        public boolean allows(C context) {
            return check.holds().test(context);
        }
    }

    private final Class<E> events;
    private final List<Row<S, E, C>> rows;

    private Transitions(Class<E> events, List<Row<S, E, C>> rows) {
        this.events = events;
        this.rows = List.copyOf(rows);
    }

    public static <S extends Enum<S>, E extends Enum<E>, C> Builder<S, E, C> builder(Class<E> events) {
        return new Builder<>(events);
    }

    public List<Row<S, E, C>> rows() {
        return rows;
    }

    /** The row for {@code event} in {@code from}, if the table has one. */
    public Optional<Row<S, E, C>> find(S from, E event) {
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
        for (Row<S, E, C> r : rows) {
            sb.append("    ").append(r.from()).append(" --> ").append(r.to()).append(" : ").append(r.event());
            if (!r.guard().isEmpty()) {
                sb.append(" [").append(r.guard()).append(']');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Collects rows; refuses two rows for the same (from, event). */
    public static final class Builder<S extends Enum<S>, E extends Enum<E>, C> {
        private final Class<E> events;
        private final List<Row<S, E, C>> rows = new ArrayList<>();

        private Builder(Class<E> events) {
            this.events = events;
        }

        public Builder<S, E, C> on(S from, E event, S to, String firedBy) {
            return on(from, event, to, Guard.none(), firedBy);
        }

        public Builder<S, E, C> on(S from, E event, S to, Guard<C> guard, String firedBy) {
            if (rows.stream().anyMatch(r -> r.from() == from && r.event() == event)) {
                throw new IllegalArgumentException("two transitions for " + from + " on " + event);
            }
            rows.add(new Row<>(from, event, to, guard, firedBy));
            return this;
        }

        @SafeVarargs
        public final Builder<S, E, C> onEach(E event, S to, Guard<C> guard, String firedBy, S... from) {
            for (S s : from) {
                on(s, event, to, guard, firedBy);
            }
            return this;
        }

        public Transitions<S, E, C> build() {
            return new Transitions<>(events, rows);
        }
    }
}
