package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.DriverException.Kind;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.metalgate.testing.IpmiSimProcess;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our IPMI driver against a real BMC implementation: OpenIPMI's ipmi_sim (Debian openipmi), which speaks
 * suites 0–3 and 6 but rejects 17, so the client's preference for 17 falls back to 3.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiSimInteropTest {

    static IpmiSimProcess sim;

    @Inject
    IpmiDriver driver;
    @Inject
    IpmiClient client;

    @BeforeAll
    static void start() throws Exception {
        sim = IpmiSimProcess.start("admin", "secret");
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    private static BmcEndpoint ep(String user, String password) {
        return new BmcEndpoint(UUID.randomUUID(), sim.host, sim.port, user, password, Optional.empty());
    }

    private static <T> T await(Uni<T> u) {
        return u.await().atMost(Duration.ofSeconds(30));
    }

    private static DriverException failure(Uni<?> u) {
        return assertThrows(DriverException.class, () -> u.await().atMost(Duration.ofSeconds(30)));
    }

    /** The power state, once it has settled: ipmi_sim runs its chassis_control program asynchronously, and real machines take time. */
    private void awaitPower(BmcEndpoint bmc, PowerState expected) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        PowerState now;
        while ((now = await(driver.powerState(bmc))) != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("power stayed " + now + ", expected " + expected);
            }
            Thread.sleep(50);
        }
    }

    /**
     * An operator account and a user account of ipmi_sim: the operator reads and powers, the user reads, each
     * in a session at the lowest level the command needs. (ipmi_sim does not enforce an account's limit on the
     * RAKP role asked for, so the refusal of a user's power command is proven against our simulator, which does:
     * IpmiSimulatorTest.)
     */
    @Test
    void eachAccountGetsWhatItsPrivilegeAllows() throws Exception {
        BmcEndpoint operator = ep(IpmiSimProcess.OPERATOR, IpmiSimProcess.OPERATOR_PASSWORD);
        await(driver.setPower(operator, PowerAction.ON));
        awaitPower(operator, PowerState.ON);
        await(driver.setBootDevice(operator, new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.LEGACY)));
        assertEquals("pxe", sim.bootDevice());
        BmcEndpoint viewer = ep(IpmiSimProcess.VIEWER, IpmiSimProcess.VIEWER_PASSWORD);
        assertEquals(PowerState.ON, await(driver.powerState(viewer)));
        await(driver.release(operator));
        await(driver.release(viewer));
    }

    @Test
    void statusOnOffCycleAndBootDeviceAgainstIpmiSim() throws Exception {
        BmcEndpoint bmc = ep("admin", "secret");
        assertTrue(await(driver.deviceId(bmc)).contains("IPMI 2.0"), "Get Device ID");
        await(driver.setPower(bmc, PowerAction.OFF));
        assertEquals("0", sim.power());
        awaitPower(bmc, PowerState.OFF);
        await(driver.setPower(bmc, PowerAction.ON));
        assertEquals("1", sim.power());
        awaitPower(bmc, PowerState.ON);
        await(driver.setPower(bmc, PowerAction.CYCLE));
        awaitPower(bmc, PowerState.ON);
        await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.LEGACY)));
        assertEquals("pxe", sim.bootDevice());
        await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.DISK, false, BootOverride.Mode.LEGACY)));
        assertEquals("default", sim.bootDevice(), "ipmi_sim knows pxe, cdrom, bios and default; disk is its default");
        await(driver.bootDevice(bmc)); // reads back (ipmi_sim marks parameter 5 invalid; it must still parse)
        await(driver.setPower(bmc, PowerAction.OFF));
        assertEquals("0", sim.power());
        // one session did all of that
        assertTrue(sim.chassisCalls().size() >= 8, sim.chassisCalls().toString());
        await(driver.release(bmc));
    }

    @Test
    void wrongPasswordUnknownUserAndAnUnacceptableSuiteAreNamed() {
        DriverException wrong = failure(driver.powerState(ep("admin", "not-the-password")));
        assertEquals(Kind.AUTHENTICATION, wrong.kind());
        assertTrue(wrong.getMessage().contains("wrong password"), wrong.getMessage());

        DriverException unknown = failure(driver.powerState(ep("mallory", "secret")));
        assertEquals(Kind.AUTHENTICATION, unknown.kind());
        assertTrue(unknown.getMessage().contains("unknown user"), unknown.getMessage());

        client.useSuites(List.of(CipherSuite.SUITE_17));
        try {
            DriverException none = failure(driver.powerState(ep("admin", "secret")));
            assertEquals(Kind.UNSUPPORTED, none.kind());
            assertTrue(none.getMessage().contains("none of the allowed cipher suites [17]"), none.getMessage());
        } finally {
            client.useSuites(null);
        }
        // and a good login still works afterwards
        assertEquals(PowerState.class, await(driver.powerState(ep("admin", "secret"))).getClass());
    }
}
