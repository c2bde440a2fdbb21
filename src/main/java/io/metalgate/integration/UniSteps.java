package io.metalgate.integration;

import io.quarkus.arc.Arc;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.smallrye.mutiny.Uni;
import java.util.function.Function;
import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProcessor;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * Route steps that do reactive I/O (Hibernate Reactive, the Vert.x SQL client) without blocking the
 * route's thread: the step's Uni runs on a fresh Vert.x duplicated context (marked safe for Hibernate
 * Reactive, as Quarkus's own VertxContextSupport does; that one refuses to start from an event loop, where
 * the previous step's completion leaves the exchange) and the exchange continues when it completes (Camel's asynchronous routing engine). A failure becomes the exchange's exception,
 * which the route's error handling turns into a dead letter.
 */
final class UniSteps {

    private UniSteps() {
    }

    private static volatile Vertx vertx;

    private static Vertx vertx() {
        Vertx v = vertx;
        if (v == null) {
            v = Arc.container().instance(Vertx.class).get();
            vertx = v;
        }
        return v;
    }

    static AsyncProcessor step(Function<Exchange, Uni<?>> step) {
        return new AsyncProcessorSupport() {
            @Override
            public boolean process(Exchange exchange, AsyncCallback callback) {
                try {
                    Context context = VertxContext.createNewDuplicatedContext(vertx().getOrCreateContext());
                    VertxContextSafetyToggle.setContextSafe(context, true);
                    context.runOnContext(ignored -> {
                        Uni<?> uni;
                        try {
                            uni = step.apply(exchange);
                        } catch (RuntimeException e) {
                            uni = Uni.createFrom().failure(e);
                        }
                        uni.subscribe().with(item -> callback.done(false), failure -> {
                            exchange.setException(failure);
                            callback.done(false);
                        });
                    });
                } catch (RuntimeException e) {
                    exchange.setException(e);
                    callback.done(true);
                    return true;
                }
                return false;
            }

            @Override
            public String toString() {
                return "uni-step";
            }
        };
    }
}
