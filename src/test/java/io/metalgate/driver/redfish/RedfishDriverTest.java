package io.metalgate.driver.redfish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.DriverException.Kind;
import io.metalgate.driver.api.Interfaces;
import io.metalgate.driver.api.Inventory;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redfish driver against redfish-mocks over real HTTPS: each profile's quirks, and each fault giving
 * its own clear error without leaving anything stuck. (The mock is ours — no Redfish BMC emulator is
 * packaged in Debian, Maven Central or npm — so the profiles follow the vendors' public documentation,
 * docs/bmc-quirks.md.)
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class RedfishDriverTest {

    static Path keystore;

    @Inject
    RedfishDriver driver;
    @Inject
    RedfishClient client;

    private final List<RedfishMock> started = new ArrayList<>();

    @BeforeAll
    static void oneCertificateForMostMocks() throws Exception {
        keystore = Files.createTempDirectory("redfish-test").resolve("bmc.p12");
    }

    @AfterEach
    void stop() {
        started.forEach(RedfishMock::close);
        started.clear();
    }

    private RedfishMock mock(Profile p) {
        RedfishMock m = RedfishMock.start(RedfishMock.Options.one(p).withKeystore(keystore).withBind(io.metalgate.testing.RedfishMocks.freshAddress()));
        started.add(m);
        return m;
    }

    private static BmcEndpoint ep(RedfishMock m) {
        return ep(m, "redfish-secret");
    }

    private static BmcEndpoint ep(RedfishMock m, String password) {
        return new BmcEndpoint(UUID.randomUUID(), m.options().bindHost(), m.port(), "admin", password, Optional.empty());
    }

    private static <T> T await(Uni<T> u) {
        return u.await().atMost(Duration.ofSeconds(30));
    }

    private static DriverException failure(Uni<?> u) {
        return assertThrows(DriverException.class, () -> await(u));
    }

    @Test
    void everyProfileIsDetectedAndPowersOnOffAndCyclesWithTheResetTypesItOffers() {
        for (Profile p : Profile.ALL) {
            RedfishMock m = mock(p);
            BmcEndpoint bmc = ep(m);
            assertEquals(switch (p.name()) {
                case "idrac" -> VendorProfile.IDRAC;
                case "ilo" -> VendorProfile.ILO;
                case "supermicro" -> VendorProfile.SUPERMICRO;
                case "xcc" -> VendorProfile.XCC;
                default -> VendorProfile.GENERIC;
            }, await(driver.vendor(bmc)), p.name());
            assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
            await(driver.setPower(bmc, PowerAction.ON));
            assertEquals(PowerState.ON, await(driver.powerState(bmc)), p.name());
            int boots = m.bmc(0).boots();
            // iLO has no PowerCycle: ForceOff then On, still one boot
            await(driver.setPower(bmc, PowerAction.CYCLE));
            assertEquals(boots + 1, m.bmc(0).boots(), p.name());
            assertEquals("On", m.bmc(0).powerState());
            await(driver.setPower(bmc, PowerAction.OFF));
            assertEquals("Off", m.bmc(0).powerState(), p.name());
            await(driver.release(bmc));
            assertEquals(0, m.bmc(0).openSessions(), "logged out on release: " + p.name());
        }
    }

    @Test
    void resetTypesFallBackWhereTheBmcLacksOne() {
        assertEquals(List.of("ForceOff", "On"), RedfishDriver.resetSteps(PowerAction.CYCLE, PowerState.ON, Profile.ILO.resetTypes()));
        assertEquals(List.of("PowerCycle"), RedfishDriver.resetSteps(PowerAction.CYCLE, PowerState.ON, Profile.IDRAC.resetTypes()));
        assertEquals(List.of("On"), RedfishDriver.resetSteps(PowerAction.CYCLE, PowerState.OFF, Profile.ILO.resetTypes()));
        assertEquals(List.of("GracefulRestart"), RedfishDriver.resetSteps(PowerAction.RESET, PowerState.ON, List.of("On", "GracefulRestart")));
        assertEquals(List.of("PushPowerButton"), RedfishDriver.resetSteps(PowerAction.ON, PowerState.OFF, List.of("PushPowerButton")));
        assertEquals(List.of(), RedfishDriver.resetSteps(PowerAction.GRACEFUL_OFF, PowerState.ON, List.of("On", "ForceOff")));
        assertEquals(List.of("ForceOff"), RedfishDriver.resetSteps(PowerAction.OFF, PowerState.ON, null));
    }

    @Test
    void aOneTimeBootOverrideIsUsedByTheNextBootOnlyOnEveryProfile() {
        for (Profile p : Profile.ALL) {
            RedfishMock m = mock(p);
            BmcEndpoint bmc = ep(m);
            await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.UEFI)));
            assertEquals(new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.UEFI), await(driver.bootDevice(bmc)), p.name());
            await(driver.setPower(bmc, PowerAction.ON));
            assertEquals("Pxe", m.bmc(0).lastBootTarget(), p.name());
            assertEquals(BootOverride.Device.NONE, await(driver.bootDevice(bmc)).device(), "consumed by the boot: " + p.name());
            await(driver.setPower(bmc, PowerAction.RESET));
            assertEquals("None", m.bmc(0).lastBootTarget(), p.name());
            await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.DISK, true, BootOverride.Mode.LEGACY)));
            await(driver.setPower(bmc, PowerAction.RESET));
            await(driver.setPower(bmc, PowerAction.RESET));
            assertEquals("Hdd", m.bmc(0).lastBootTarget(), "persistent: " + p.name());
        }
    }

    @Test
    void aBootOverrideThatLosesToAnotherWriterIsReReadAndRetried() {
        RedfishMock m = mock(Profile.IDRAC);
        BmcEndpoint bmc = ep(m);
        m.bmc(0).faults.concurrentWriter = true;
        await(driver.setBootDevice(bmc, new BootOverride(BootOverride.Device.CD, false, BootOverride.Mode.UEFI)));
        assertEquals(BootOverride.Device.CD, await(driver.bootDevice(bmc)).device());
    }

    @Test
    void virtualMediaByActionOrByPatchWhereThereIsNoAction() {
        for (Profile p : List.of(Profile.GENERIC, Profile.SUPERMICRO, Profile.IDRAC)) {
            RedfishMock m = mock(p);
            BmcEndpoint bmc = ep(m);
            String iso = "http://192.0.2.10/agent.iso";
            await(driver.insert(bmc, iso));
            assertEquals(iso, m.bmc(0).mediaImage(), p.name());
            await(driver.eject(bmc));
            assertNull(m.bmc(0).mediaImage(), p.name());
            await(driver.eject(bmc)); // ejecting nothing is fine
        }
    }

    @Test
    void xccMountsByUriOnlyInAnExtSlotAndItsPatchNamesInserted() {
        RedfishMock m = mock(Profile.XCC);
        BmcEndpoint bmc = ep(m);
        String iso = "http://192.0.2.10/agent.iso";
        await(driver.insert(bmc, iso));
        // RDOC1 and RDOC2 come first in the collection and would refuse a URI
        assertEquals(java.util.Map.of("EXT1", iso), m.bmc(0).insertedMedia());
        await(driver.insert(bmc, iso + "?second"));
        assertEquals(java.util.Map.of("EXT1", iso, "EXT2", iso + "?second"), m.bmc(0).insertedMedia());
        await(driver.eject(bmc));
        assertEquals(java.util.Map.of(), m.bmc(0).insertedMedia(), "every slot we filled is ejected");
    }

    @Test
    void idracsUsbSlotIsPassedOverForTheCdAndAFullSlotIsAConflict() {
        RedfishMock m = mock(Profile.IDRAC);
        BmcEndpoint bmc = ep(m);
        await(driver.insert(bmc, "http://192.0.2.10/a.iso"));
        assertEquals(java.util.Map.of("CD", "http://192.0.2.10/a.iso"), m.bmc(0).insertedMedia());
        DriverException full = failure(driver.insert(bmc, "http://192.0.2.10/b.iso"));
        assertEquals(Kind.CONFLICT, full.kind());
        assertTrue(full.getMessage().contains("eject first"), full.getMessage());
    }

    @Test
    void withoutDriveSecureEraseTheVolumesAreInitializedSlowly() {
        RedfishMock m = mock(Profile.SUPERMICRO);
        List<Interfaces.DiskErase> erased = await(driver.secureErase(ep(m)));
        assertEquals(List.of("volume:1", "volume:2"), erased.stream().map(Interfaces.DiskErase::diskId).toList());
        assertEquals(List.of(m.bmc(0).driveSerial(1), m.bmc(0).driveSerial(2)), erased.stream().map(Interfaces.DiskErase::serialNumber).toList());
        assertEquals(List.of("Volume.Initialize(Slow)", "Volume.Initialize(Slow)"), erased.stream().map(Interfaces.DiskErase::technique).toList());
        assertEquals(List.of("Completed", "Completed"), erased.stream().map(Interfaces.DiskErase::result).toList());
        assertEquals(java.util.Map.of("1", "Slow", "2", "Slow"), m.bmc(0).initializedVolumes());
        assertEquals(java.util.Map.of(), m.bmc(0).erasedDrives());
    }

    @Test
    void aSubscriptionIsMadeWhereThereIsAnEventServiceAndNotElsewhere() {
        RedfishMock m = mock(Profile.IDRAC);
        java.util.Optional<String> sub = await(driver.subscribe(ep(m), "https://192.0.2.1/api/redfish-events/x", "ctx-1"));
        assertTrue(sub.isPresent());
        assertEquals(1, m.bmc(0).events.all().size());
        assertEquals("ctx-1", m.bmc(0).events.all().get(0).context());
        assertEquals(java.util.Optional.empty(), await(driver.subscribe(ep(mock(Profile.SUPERMICRO)), "https://192.0.2.1/e", "c")));
    }

    @Test
    void inspectionReadsProcessorsMemoryDrivesAndMacs() {
        RedfishMock m = mock(Profile.IDRAC);
        Inventory inv = await(driver.inspect(ep(m)));
        assertEquals(2, inv.processors().size());
        assertEquals(4, inv.memory().size());
        assertEquals(List.of(m.bmc(0).driveSerial(1), m.bmc(0).driveSerial(2)), inv.disks().stream().map(Inventory.Disk::serialNumber).toList());
        assertEquals("NVMe", inv.disks().get(0).protocol());
        assertEquals(1_920_383_410_176L, inv.disks().get(0).capacityBytes());
        assertEquals(List.of(m.bmc(0).mac(1), m.bmc(0).mac(2)), inv.nics().stream().map(Inventory.Nic::mac).toList());
        assertEquals("Dell", inv.manufacturer());
    }

    @Test
    void anOlderBmcWithOnlySimpleStorageStillGivesItsDisks() {
        RedfishMock m = mock(Profile.SUPERMICRO);
        m.bmc(0).faults.onlySimpleStorage = true;
        Inventory inv = await(driver.inspect(ep(m)));
        assertEquals(List.of(m.bmc(0).driveSerial(1), m.bmc(0).driveSerial(2)), inv.disks().stream().map(Inventory.Disk::serialNumber).toList());
        assertEquals(3_840_755_982_336L, inv.disks().get(1).capacityBytes());
        // and a BMC-side erase is then not possible: the erase agent's job
        assertEquals(Kind.UNSUPPORTED, failure(driver.secureErase(ep(m))).kind());
    }

    @Test
    void secureEraseFollowsTheTaskMonitorsOrSaysItIsUnsupported() {
        RedfishMock m = mock(Profile.GENERIC);
        List<Interfaces.DiskErase> erased = await(driver.secureErase(ep(m)));
        assertEquals(List.of("Completed", "Completed"), erased.stream().map(Interfaces.DiskErase::result).toList());
        assertEquals(2, m.bmc(0).erasedDrives().size());
        assertEquals(Kind.UNSUPPORTED, failure(driver.secureErase(ep(mock(Profile.ILO)))).kind());
    }

    @Test
    void sessionsAreReusedRenewedAfterA401AndReplacedByBasicWhenTheTableIsFull() {
        RedfishMock m = mock(Profile.IDRAC);
        BmcEndpoint bmc = ep(m);
        await(driver.powerState(bmc));
        await(driver.powerState(bmc));
        assertEquals(1, m.bmc(0).openSessions(), "one session per BMC");
        m.bmc(0).faults.forgetSessions = true; // the BMC rebooted
        assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
        assertEquals(1, m.bmc(0).openSessions(), "logged in again");
        await(driver.release(bmc));

        m.bmc(0).faults.sessionsExhausted = true; // iDRAC answers 400 when its table is full
        assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
        assertEquals(0, m.bmc(0).openSessions(), "Basic, no session");
        await(driver.release(bmc));

        m.bmc(0).faults.basicRefused = true; // and no Basic either: the operator must learn why
        DriverException full = failure(driver.powerState(bmc));
        assertEquals(Kind.SESSION_LIMIT, full.kind(), full.getMessage());
        m.bmc(0).faults.clear();
        assertEquals(PowerState.OFF, await(driver.powerState(bmc)), "a session again once the table has room");
        assertEquals(1, m.bmc(0).openSessions());
        await(driver.release(bmc));

        DriverException wrong = failure(driver.powerState(ep(m, "not-the-password")));
        assertEquals(Kind.AUTHENTICATION, wrong.kind());
        assertTrue(!wrong.getMessage().contains("not-the-password"), "no password in errors");
    }

    @Test
    void faultsGiveSpecificErrorsAndTransientOnesAreRetried() {
        RedfishMock m = mock(Profile.GENERIC);
        BmcEndpoint bmc = ep(m);
        var faults = m.bmc(0).faults;

        faults.serverErrors = 1; // one 503, then fine: retried
        assertEquals(PowerState.OFF, await(driver.powerState(bmc)));

        faults.latencyMillis = 300; // slow, within the timeout
        assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
        faults.latencyMillis = 0;

        faults.malformedJson = true;
        DriverException malformed = failure(driver.powerState(bmc));
        assertEquals(Kind.MALFORMED_RESPONSE, malformed.kind());
        assertTrue(malformed.getMessage().contains("not JSON"), malformed.getMessage());
        faults.malformedJson = false;

        faults.missingPowerState = true;
        DriverException missing = failure(driver.powerState(bmc));
        assertEquals(Kind.MALFORMED_RESPONSE, missing.kind());
        assertTrue(missing.getMessage().contains("no PowerState"), missing.getMessage());
        faults.missingPowerState = false;

        faults.hang = true;
        long t0 = System.nanoTime();
        DriverException hung = failure(driver.powerState(bmc));
        assertEquals(Kind.TIMEOUT, hung.kind(), hung.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "the timeout fired");
        faults.hang = false;

        // the breaker opened after the hang's failures: calls fail fast, then a trial after the cooldown closes it
        DriverException open = failure(driver.powerState(bmc));
        assertEquals(Kind.CIRCUIT_OPEN, open.kind(), open.getMessage());
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        PowerState state = null;
        while (state == null && System.nanoTime() < deadline) {
            try {
                state = await(driver.powerState(bmc));
            } catch (DriverException e) {
                assertEquals(Kind.CIRCUIT_OPEN, e.kind());
                Thread.onSpinWait();
            }
        }
        assertEquals(PowerState.OFF, state);

        faults.brokenForever = true;
        DriverException broken = failure(driver.powerState(bmc));
        assertEquals(Kind.BMC_ERROR, broken.kind());
        assertEquals(500, broken.status());
        assertTrue(broken.getMessage().contains("Base.1.8.InternalError"), broken.getMessage());
    }

    @Test
    void aPowerPostIsNotRetriedAfterATimeout() {
        RedfishMock m = mock(Profile.GENERIC);
        BmcEndpoint bmc = ep(m);
        await(driver.powerState(bmc)); // logged in, system known
        int before = m.bmc(0).requests();
        m.bmc(0).faults.hang = true;
        assertEquals(Kind.TIMEOUT, failure(driver.setPower(bmc, PowerAction.ON)).kind());
        // GET of the system (retried once) and one POST at most: never the reset twice
        assertTrue(m.bmc(0).requests() - before <= 3, "requests: " + (m.bmc(0).requests() - before));
    }

    @Test
    void aChangedCertificateIsRefusedBeforeAnythingIsSent() throws Exception {
        String host = io.metalgate.testing.RedfishMocks.freshAddress();
        RedfishMock first = RedfishMock.start(RedfishMock.Options.one(Profile.GENERIC).withBind(host));
        int port = first.port();
        BmcEndpoint bmc = new BmcEndpoint(UUID.randomUUID(), host, port, "admin", "redfish-secret", Optional.empty());
        await(driver.powerState(bmc));
        assertEquals(first.certificateSha256(), client.pins().seen(bmc.key()).orElseThrow().presentedSha256(), "pinned on first use");
        first.close();

        RedfishMock impostor = RedfishMock.start(RedfishMock.Options.one(Profile.GENERIC).withBind(host).withPort(port));
        started.add(impostor);
        await(driver.release(bmc));
        DriverException changed = failure(driver.powerState(bmc));
        assertEquals(Kind.CERTIFICATE_CHANGED, changed.kind(), changed.getMessage());
        assertTrue(changed.getMessage().contains(first.certificateSha256()) && changed.getMessage().contains(impostor.certificateSha256()));
        assertEquals(0, impostor.bmc(0).requests(), "no request (no password) reached the new certificate's server");

        // a stored pin is enforced the same way from the first connection of a new process
        BmcEndpoint stored = new BmcEndpoint(bmc.machineId(), host, port, "admin", "redfish-secret", Optional.of(first.certificateSha256()));
        client.pins().forget(bmc.key());
        assertEquals(Kind.CERTIFICATE_CHANGED, failure(driver.powerState(stored)).kind());
    }

    @Test
    void anUnreachableBmcAndAnUnknownSchemaVersionAreNamed() throws Exception {
        int free;
        try (var s = new java.net.ServerSocket(0)) {
            free = s.getLocalPort();
        }
        BmcEndpoint nobody = new BmcEndpoint(UUID.randomUUID(), "127.0.0.1", free, "admin", "x", Optional.empty());
        DriverException unreachable = failure(driver.powerState(nobody));
        assertEquals(Kind.UNREACHABLE, unreachable.kind(), unreachable.getMessage());
        assertTrue(unreachable.getMessage().contains("127.0.0.1:" + free));

        var json = new io.vertx.core.json.JsonObject().put("@odata.type", "#ComputerSystem.v2_0_0.ComputerSystem");
        DriverException v2 = assertThrows(DriverException.class, () -> RedfishDriver.requireType(nobody, json, "ComputerSystem"));
        assertTrue(v2.getMessage().contains("unknown schema version"));
        RedfishDriver.requireType(nobody, json.put("@odata.type", "#ComputerSystem.v1_20_0.ComputerSystem"), "ComputerSystem");
    }
}
