package io.metalgate.driver.redfish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.QemuHost;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The Redfish driver against an emulated BMC whose machine is a real QEMU virtual machine (Debian
 * qemu-system-x86, software emulation): power on starts it, force off ends it, and a boot override takes
 * effect on the next boot — read from what the VM's firmware (SeaBIOS) says it boots from.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class QemuBackedBmcTest {

    @Inject
    RedfishDriver driver;

    /** The first thing the firmware booted from since the VM started ("ROM" is the NIC's iPXE). */
    private static String firstBoot(QemuHost vm) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(vm.firmwareLog())) {
                Optional<String> line = Files.readAllLines(vm.firmwareLog(), java.nio.charset.StandardCharsets.ISO_8859_1).stream()
                        .filter(l -> l.startsWith("Booting from ")).findFirst();
                if (line.isPresent()) {
                    return line.get();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the VM's firmware booted nothing within 60 s: " + (Files.exists(vm.firmwareLog())
                ? Files.readString(vm.firmwareLog(), java.nio.charset.StandardCharsets.ISO_8859_1) : "no firmware log"));
    }

    @Test
    void powerAndBootOverridesDriveARealVirtualMachine() throws Exception {
        Path dir = Files.createTempDirectory("qemu-bmc");
        try (RedfishMock m = io.metalgate.testing.RedfishMocks.start(Profile.GENERIC)) {
            QemuHost vm = new QemuHost(dir, m.bmc(0).mac(1), List.of());
            m.bmc(0).attach(vm);
            BmcEndpoint bmc = new BmcEndpoint(UUID.randomUUID(), m.options().bindHost(), m.port(), "admin", "redfish-secret", Optional.empty());
            try {
                assertEquals(PowerState.OFF, await(driver.powerState(bmc)));

                // network boot once: the VM starts and its firmware hands over to the NIC's PXE ROM
                await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.LEGACY)));
                await(driver.setPower(bmc, PowerAction.ON));
                assertEquals(PowerState.ON, await(driver.powerState(bmc)));
                assertEquals("Booting from ROM...", firstBoot(vm));

                // force off ends the VM
                await(driver.setPower(bmc, PowerAction.OFF));
                assertFalse(vm.poweredOn());
                assertEquals(PowerState.OFF, await(driver.powerState(bmc)));

                // the override was used up: the next boot follows the normal order (disk first)
                await(driver.setPower(bmc, PowerAction.ON));
                assertEquals("Booting from Hard Disk...", firstBoot(vm));

                // a CD override set while running takes effect on the next boot, a reset
                await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.CD, false, BootOverride.Mode.LEGACY)));
                await(driver.setPower(bmc, PowerAction.RESET));
                assertEquals("Booting from DVD/CD...", firstBoot(vm));

                // a graceful off asks the OS (ACPI); this VM has none, so it stays on — as a real server would
                await(driver.setPower(bmc, PowerAction.GRACEFUL_OFF));
                assertEquals(PowerState.ON, await(driver.powerState(bmc)));
            } finally {
                vm.close();
            }
        }
    }

    private static <T> T await(io.smallrye.mutiny.Uni<T> u) {
        return u.await().atMost(Duration.ofSeconds(60));
    }
}
