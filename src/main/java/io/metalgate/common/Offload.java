package io.metalgate.common;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs CPU-heavy work (Argon2id) on a worker thread and comes back to the caller's Vert.x context, which
 * Hibernate Reactive requires for the rest of the pipeline.
 */
public final class Offload {

    private Offload() {
    }

    public static <T> Uni<T> blocking(Supplier<T> work) {
        Context ctx = Vertx.currentContext();
        Executor back = ctx == null ? Runnable::run : task -> ctx.runOnContext(v -> task.run());
        return Uni.createFrom().item(work).runSubscriptionOn(Infrastructure.getDefaultWorkerPool()).emitOn(back);
    }
}
