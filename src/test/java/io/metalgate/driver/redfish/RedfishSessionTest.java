package io.metalgate.driver.redfish;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.redfishmock.MockBmc;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One session per BMC, always: small BMCs allow 2 to 8 sessions, and a client that opens one per concurrent
 * request, or leaves replaced ones behind, locks the operators out of their own BMCs.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class RedfishSessionTest {

    @Inject
    RedfishClient client;

    private final List<RedfishMock> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(RedfishMock::close);
        started.clear();
    }

    private MockBmc fresh(RedfishMock[] holder) {
        RedfishMock m = RedfishMock.start(RedfishMock.Options.one(Profile.GENERIC)
                .withBind(io.metalgate.testing.RedfishMocks.freshAddress()));
        started.add(m);
        holder[0] = m;
        return m.bmc(0);
    }

    private static BmcEndpoint ep(RedfishMock m) {
        return new BmcEndpoint(UUID.randomUUID(), m.options().bindHost(), m.port(), "admin", "redfish-secret", Optional.empty());
    }

    @Test
    void concurrentFirstRequestsToAFreshBmcOpenOneSession() {
        RedfishMock[] m = new RedfishMock[1];
        MockBmc bmc = fresh(m);
        bmc.faults.latencyMillis = 100; // the login takes a while: every request arrives while it is in flight
        BmcEndpoint ep = ep(m[0]);
        List<Uni<RedfishClient.Reply>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            calls.add(client.get(ep, "/redfish/v1/Systems"));
        }
        Uni.join().all(calls).andFailFast().await().atMost(Duration.ofSeconds(30));
        assertEquals(1, bmc.sessionsCreated(), "logins");
        assertEquals(1, bmc.openSessions());
        client.release(ep).await().atMost(Duration.ofSeconds(10));
        assertEquals(0, bmc.openSessions(), "logged out");
    }

    @Test
    void aRefusedTokenIsReplacedOnceAndItsSessionDeleted() {
        RedfishMock[] m = new RedfishMock[1];
        MockBmc bmc = fresh(m);
        BmcEndpoint ep = ep(m[0]);
        client.get(ep, "/redfish/v1/Systems").await().atMost(Duration.ofSeconds(30));
        assertEquals(1, bmc.sessionsCreated());
        bmc.faults.rejectTokenOnce = true;
        List<Uni<RedfishClient.Reply>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(client.get(ep, "/redfish/v1/Systems"));
        }
        Uni.join().all(calls).andFailFast().await().atMost(Duration.ofSeconds(30));
        assertEquals(2, bmc.sessionsCreated(), "one new login, whatever the number of requests that saw the 401");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (bmc.openSessions() > 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, bmc.openSessions(), "the replaced session was deleted");
        client.release(ep).await().atMost(Duration.ofSeconds(10));
    }

    @Test
    void shutdownLogsOutOfEveryBmc() {
        List<MockBmc> bmcs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RedfishMock[] m = new RedfishMock[1];
            MockBmc bmc = fresh(m);
            client.get(ep(m[0]), "/redfish/v1/Systems").await().atMost(Duration.ofSeconds(30));
            bmcs.add(bmc);
        }
        bmcs.forEach(b -> assertEquals(1, b.openSessions()));
        client.releaseAll().await().atMost(Duration.ofSeconds(30));
        bmcs.forEach(b -> assertEquals(0, b.openSessions(), "logged out at shutdown"));
    }
}
