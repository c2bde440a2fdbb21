package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A second, independent BMC: pyghmi's {@code Bmc} (Debian python3-pyghmi), subclassed in
 * src/test/resources/ipmi/pyghmi_bmc.py. It speaks suite 3 only — and answers a suite 17 proposal with
 * suite 3's algorithms, which our client refuses to take, proposing 3 itself instead.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class PyghmiInteropTest {

    @Inject
    IpmiDriver driver;

    private static <T> T await(Uni<T> u) {
        return u.await().atMost(Duration.ofSeconds(30));
    }

    @Test
    void powerAndBootDeviceAgainstPyghmi() throws Exception {
        int port = IpmiSimulatorTest.freePort();
        Path dir = Files.createTempDirectory("pyghmi");
        Path script = dir.resolve("pyghmi_bmc.py");
        try (var in = getClass().getResourceAsStream("/ipmi/pyghmi_bmc.py")) {
            Files.copy(in, script);
        }
        Path state = dir.resolve("state");
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), String.valueOf(port), "admin", "secret", state.toString())
                .redirectErrorStream(true).start();
        try {
            String first = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
            assertEquals("ready", first, "pyghmi BMC did not start (Debian python3-pyghmi installed?)");
            BmcEndpoint bmc = new BmcEndpoint(UUID.randomUUID(), "127.0.0.1", port, "admin", "secret", Optional.empty());
            assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
            await(driver.setPower(bmc, PowerAction.ON));
            assertTrue(Files.readString(state).contains("power=on"), Files.readString(state));
            assertEquals(PowerState.ON, await(driver.powerState(bmc)));
            await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.LEGACY)));
            assertTrue(Files.readString(state).contains("boot=network"), Files.readString(state));
            assertEquals(BootOverride.Device.PXE, await(driver.bootDevice(bmc)).device());
            await(driver.setPower(bmc, PowerAction.OFF));
            assertTrue(Files.readString(state).contains("power=off"));
            await(driver.release(bmc));

            DriverException wrong = assertThrows(DriverException.class, () -> await(driver.powerState(new BmcEndpoint(UUID.randomUUID(),
                    "127.0.0.1", port, "admin", "guess", Optional.empty()))));
            assertEquals(DriverException.Kind.AUTHENTICATION, wrong.kind());
        } finally {
            p.destroy();
        }
    }
}
