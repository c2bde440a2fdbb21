package io.metalgate.testing;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;

/** Starting redfish-mocks BMCs in tests, each on a loopback address of its own. */
public final class RedfishMocks {

    private RedfishMocks() {
    }

    /**
     * A random loopback address, so no two mocks of a run share one (a counter would not do: Quarkus loads
     * test classes in more than one class loader): each BMC is a host of its own, as in a fleet, and the
     * client's per-BMC state (pool, session, pin, breaker) never carries over between tests.
     */
    public static String freshAddress() {
        var r = java.util.concurrent.ThreadLocalRandom.current();
        return "127." + r.nextInt(4, 250) + "." + r.nextInt(0, 256) + "." + r.nextInt(1, 255);
    }

    public static RedfishMock start(Profile p) {
        return RedfishMock.start(RedfishMock.Options.one(p).withBind(freshAddress()));
    }

    /** Enrols a machine whose BMC is {@code m} through the API (as an operator); its id. */
    public static String enrol(RedfishMock m, String namePrefix) {
        return Api.operator().body(java.util.Map.of("name", Api.unique(namePrefix), "bmc", java.util.Map.of("protocol", "REDFISH",
                "host", m.options().bindHost(), "port", m.port(), "username", "admin", "password", "redfish-secret")))
                .post("/api/machines").then().statusCode(201).extract().path("id");
    }

    /** The mocks a test started, closed together after it: {@code @AfterEach void stop() { fleet.close(); }}. */
    public static final class Fleet implements AutoCloseable {
        private final java.util.List<RedfishMock> started = new java.util.ArrayList<>();

        public RedfishMock start(Profile p) {
            RedfishMock m = RedfishMocks.start(p);
            started.add(m);
            return m;
        }

        /** Tracks a mock started otherwise (e.g. on a chosen address and port). */
        public RedfishMock add(RedfishMock m) {
            started.add(m);
            return m;
        }

        public void remove(RedfishMock m) {
            started.remove(m);
        }

        @Override
        public void close() {
            started.forEach(RedfishMock::close);
            started.clear();
        }
    }
}
