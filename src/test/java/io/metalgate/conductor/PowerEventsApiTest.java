package io.metalgate.conductor;

import static io.metalgate.testing.Api.as;
import static io.metalgate.testing.Api.operator;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redfish EventService end to end: the sweep subscribes each BMC that offers events, the emulated BMC
 * really POSTs its event to the appliance over HTTP, and the machine's power state is refreshed without
 * another sweep. Events without our Context are refused.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class PowerEventsApiTest {

    @TestHTTPResource("/")
    URL self;
    @Inject
    PowerEvents events;

    private final io.metalgate.testing.RedfishMocks.Fleet mocks = new io.metalgate.testing.RedfishMocks.Fleet();

    @BeforeEach
    void pointBmcsHere() {
        events.useDestination(Optional.of("http://127.0.0.1:" + self.getPort()));
    }

    @AfterEach
    void stop() {
        events.useDestination(Optional.empty());
        mocks.close();
    }

    private RedfishMock mock(Profile p) {
        return mocks.start(p);
    }

    private static String enrol(RedfishMock m) {
        return io.metalgate.testing.RedfishMocks.enrol(m, "ev");
    }

    private static void waitFor(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void aMachineSwitchedOnBehindOurBackIsSeenFromItsEventWithoutASweep() throws Exception {
        RedfishMock idrac = mock(Profile.IDRAC);
        RedfishMock supermicro = mock(Profile.SUPERMICRO);
        String pushed = enrol(idrac);
        String polled = enrol(supermicro);
        // the pushed one through its lifecycle to RETAINED: inspected, leased, deployed, lease terminated (powered off)
        io.metalgate.testing.Lifecycle.awaitState(pushed, "MANAGEABLE");
        operator().post("/api/machines/" + pushed + "/inventory").then().statusCode(200);
        String tenant = operator().body(java.util.Map.of("name", io.metalgate.testing.Api.unique("ev"))).post("/api/tenants").then()
                .extract().path("id");
        String lease = io.metalgate.testing.Lifecycle.activeLease(tenant, java.util.List.of(pushed));
        as("billing").body(java.util.Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
        io.metalgate.testing.Lifecycle.awaitState(pushed, "RETAINED");
        io.metalgate.testing.Lifecycle.awaitState(polled, "MANAGEABLE");

        operator().queryParam("machine", pushed).queryParam("machine", polled).post("/api/power-sync").then().statusCode(200)
                .body("off", equalTo(2));
        assertEquals(1, idrac.bmc(0).events.all().size(), "subscribed once");
        assertTrue(idrac.bmc(0).events.all().get(0).destination().endsWith("/api/redfish-events/" + pushed));
        // a BMC without EventService is marked so and left to polling
        assertEquals("none", PostgresTestResource.sqlValue("SELECT bmc_event_subscription FROM machine WHERE id = ?::uuid", polled));

        // someone presses the power button of the retained machine: its BMC pushes an event, the appliance asks it again
        idrac.bmc(0).setPowerState("On");
        waitFor("the event to refresh the machine", () -> "ON".equals(operator().get("/api/machines/" + pushed).then().extract()
                .path("power.state")));
        operator().get("/api/machines/" + pushed).then().body("power.drift", equalTo(true));
        assertEquals(1, idrac.eventsDelivered());

        // a second sweep does not subscribe again
        operator().queryParam("machine", pushed).post("/api/power-sync").then().statusCode(200);
        assertEquals(1, idrac.bmc(0).events.all().size());
    }

    @Test
    void anEventWithoutOurContextIsRefusedAndChangesNothing() {
        RedfishMock m = mock(Profile.GENERIC);
        String id = enrol(m);
        io.metalgate.testing.Lifecycle.awaitState(id, "MANAGEABLE"); // enrolment's verification asked the BMC
        int before = m.bmc(0).requests();
        given().contentType("application/json").body("{\"Context\":\"forged\",\"Events\":[]}").post("/api/redfish-events/" + id).then()
                .statusCode(403).body("type", org.hamcrest.Matchers.containsString("unknown-event-context"));
        given().contentType("application/json").body("{\"Events\":[]}").post("/api/redfish-events/" + id).then().statusCode(403);
        given().contentType("application/json").body("{not json").post("/api/redfish-events/" + id).then().statusCode(400);
        assertEquals(before, m.bmc(0).requests(), "a refused event never makes the appliance call the BMC");
        String context = events.context(java.util.UUID.fromString(id));
        given().contentType("application/json").body("{\"Context\":\"" + context + "\",\"Events\":[]}").post("/api/redfish-events/" + id)
                .then().statusCode(204);
    }
}
