package io.metalgate.common;

import io.quarkus.hibernate.reactive.panache.PanacheQuery;
import io.quarkus.panache.common.Page;
import io.smallrye.mutiny.Uni;
import java.util.List;
import java.util.function.Function;

/** One page of a listing: {@code page} is 0-based, {@code total} counts all matches. */
public record PageView<T>(List<T> items, int page, int size, long total) {

    /** Runs {@code query} for one page and counts all its matches; {@code views} turns entities into API records. */
    public static <E, T> Uni<PageView<T>> fetch(PanacheQuery<E> query, int page, int size, Function<List<E>, Uni<List<T>>> views) {
        if (page < 0) {
            throw ApiException.badRequest("page", "must be 0 or more");
        }
        if (size < 1) {
            throw ApiException.badRequest("size", "must be 1 or more");
        }
        if ((long) page * size > Integer.MAX_VALUE) {
            // the database's offset is page × size, an int
            throw ApiException.badRequest("page", "must be at most " + Integer.MAX_VALUE / size + " for a size of " + size);
        }
        PanacheQuery<E> paged = query.page(Page.of(page, size));
        return paged.list().chain(list -> views.apply(list)).chain(items -> paged.count().map(total -> new PageView<>(items, page, size, total)));
    }
}
