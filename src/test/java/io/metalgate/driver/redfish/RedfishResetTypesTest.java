package io.metalgate.driver.redfish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A BMC that offers only OEM-named reset types: the common ones are mapped, the rest through the machine's
 * override, and when nothing maps the error names what the BMC offered and where to name its own.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class RedfishResetTypesTest {

    /** The generic profile with only non-standard reset types. */
    static final Profile OEM = oem(List.of("On", "PowerOffNonGraceful", "OemPowerCycle"));

    static Profile oem(List<String> resetTypes) {
        Profile g = Profile.GENERIC;
        return new Profile("oem-reset", g.vendor(), g.product(), g.systemId(), g.managerId(), resetTypes, g.etags(), g.bootModeRequired(),
                g.insertMediaAction(), g.virtualMediaUnderSystem(), g.sessionLimit(), g.sessionLimitStatus(), g.secureErase(),
                g.bootModeReadOnly(), g.eventService(), g.volumeInitialize(), g.mediaSlots(), g.patchNeedsInserted());
    }

    @Inject
    RedfishDriver driver;

    private RedfishMock mock;

    @AfterEach
    void stop() {
        if (mock != null) {
            mock.close();
        }
    }

    private BmcEndpoint ep(Map<PowerAction, String> resetTypes) {
        return new BmcEndpoint(UUID.randomUUID(), mock.options().bindHost(), mock.port(), "admin", "redfish-secret", Optional.empty(),
                new BmcEndpoint.Options(Optional.empty(), Optional.empty(), resetTypes));
    }

    @Test
    void oemResetTypesAreMappedOrOverriddenAndAnUnmappedOneIsNamed() {
        mock = RedfishMock.start(RedfishMock.Options.one(OEM).withBind(io.metalgate.testing.RedfishMocks.freshAddress()));
        BmcEndpoint plain = ep(Map.of());
        driver.setPower(plain, PowerAction.ON).await().atMost(Duration.ofSeconds(30));
        assertEquals("On", mock.bmc(0).powerState());
        // no ForceOff: the forced off under its OEM name
        driver.setPower(plain, PowerAction.OFF).await().atMost(Duration.ofSeconds(30));
        assertEquals("Off", mock.bmc(0).powerState());
        driver.setPower(plain, PowerAction.ON).await().atMost(Duration.ofSeconds(30));
        // a cycle it only offers as OemPowerCycle: not guessed; the error names what was offered and the override
        DriverException unmapped = assertThrows(DriverException.class,
                () -> driver.setPower(plain, PowerAction.CYCLE).await().atMost(Duration.ofSeconds(30)));
        assertEquals(DriverException.Kind.UNSUPPORTED, unmapped.kind());
        assertTrue(unmapped.getMessage().contains("OemPowerCycle") && unmapped.getMessage().contains("bmc.options.resetTypes.CYCLE"),
                unmapped.getMessage());
        // the machine's override names it
        int boots = mock.bmc(0).boots();
        BmcEndpoint overridden = ep(Map.of(PowerAction.CYCLE, "OemPowerCycle"));
        driver.setPower(overridden, PowerAction.CYCLE).await().atMost(Duration.ofSeconds(30));
        assertEquals(boots + 1, mock.bmc(0).boots());
        // an override the BMC does not offer: refused before anything is sent
        DriverException wrong = assertThrows(DriverException.class, () -> driver.setPower(ep(Map.of(PowerAction.OFF, "Zap")),
                PowerAction.OFF).await().atMost(Duration.ofSeconds(30)));
        assertTrue(wrong.getMessage().contains("Zap, which the BMC does not offer"), wrong.getMessage());
        assertEquals("On", mock.bmc(0).powerState());
    }
}
