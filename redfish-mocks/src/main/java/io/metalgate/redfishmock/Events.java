package io.metalgate.redfishmock;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One BMC's EventService: subscriptions (DMTF EventDestination) and the Event it pushes to each when the
 * power state changes. Delivery is the server's job ({@link #deliverWith}); without a sender, events are
 * only counted.
 */
public final class Events {

    /** One subscription: where to POST events, and the Context the subscriber asked to get back. */
    public record Subscription(String id, String destination, String context) {
    }

    private final Map<String, Subscription> subscriptions = new LinkedHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final AtomicInteger eventIds = new AtomicInteger();
    private volatile BiConsumer<Subscription, JsonObject> sender = (s, e) -> {
    };

    public void deliverWith(BiConsumer<Subscription, JsonObject> sender) {
        this.sender = sender;
    }

    public synchronized Subscription subscribe(String destination, String context) {
        Subscription s = new Subscription(String.valueOf(ids.incrementAndGet()), destination, context);
        subscriptions.put(s.id(), s);
        return s;
    }

    public synchronized Subscription get(String id) {
        return subscriptions.get(id);
    }

    public synchronized boolean remove(String id) {
        return subscriptions.remove(id) != null;
    }

    public synchronized List<Subscription> all() {
        return List.copyOf(subscriptions.values());
    }

    /** Pushes a ResourceChanged event naming the system whose power state changed, to every subscriber. */
    void powerChanged(String system, String state) {
        for (Subscription s : all()) {
            JsonObject event = new JsonObject().put("@odata.type", "#Event.v1_7_0.Event").put("Id", String.valueOf(eventIds.incrementAndGet()))
                    .put("Name", "Event").put("Context", s.context())
                    .put("Events", new JsonArray().add(new JsonObject().put("EventType", "Other")
                            .put("EventId", String.valueOf(eventIds.get())).put("EventTimestamp", OffsetDateTime.now().toString())
                            .put("MessageId", "ResourceEvent.1.0.ResourceChanged").put("Message", "The power state changed to " + state + ".")
                            .put("OriginOfCondition", new JsonObject().put("@odata.id", system))));
            sender.accept(s, event);
        }
    }
}
