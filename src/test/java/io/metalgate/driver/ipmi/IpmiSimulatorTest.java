package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.ipmisim.SimBmc;
import io.metalgate.testing.IpmiSimProcess;
import io.metalgate.testing.IpmiTool;
import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Our IPMI simulator (redfish-mocks, io.metalgate.ipmisim) proven by the real ipmitool with cipher suites 3
 * and 17; then our client against it (suite 17 preferred), and against a hostile network between them:
 * duplicated, replayed and garbage datagrams.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class IpmiSimulatorTest {

    @Inject
    IpmiDriver driver;
    @Inject
    IpmiClient client;

    static int freePort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static <T> T await(Uni<T> u) {
        return u.await().atMost(Duration.ofSeconds(30));
    }

    private static IpmiSimProcess.Run ipmitool(IpmiSim sim, int i, int suite, String... args) throws Exception {
        return IpmiTool.run(sim.host(i), sim.options().port(), suite, "admin", "ipmi-secret", args);
    }

    @Test
    void theRealIpmitoolDrivesOurSimulatorWithSuites3And17() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()).withBmcs(3))) {
            for (int suite : new int[] {3, 17}) {
                SimBmc bmc = sim.bmc(suite == 3 ? 1 : 2);
                assertTrue(ipmitool(sim, suite == 3 ? 1 : 2, suite, "power", "status").output().contains("Chassis Power is off"));
                assertEquals(0, ipmitool(sim, suite == 3 ? 1 : 2, suite, "power", "on").exitCode());
                assertTrue(bmc.powerOn(), "suite " + suite);
                assertTrue(ipmitool(sim, suite == 3 ? 1 : 2, suite, "chassis", "status").output().contains("System Power         : on"));
                assertEquals(0, ipmitool(sim, suite == 3 ? 1 : 2, suite, "power", "cycle").exitCode());
                assertEquals(0, ipmitool(sim, suite == 3 ? 1 : 2, suite, "power", "off").exitCode());
                assertFalse(bmc.powerOn());
                assertEquals(0, ipmitool(sim, suite == 3 ? 1 : 2, suite, "chassis", "bootdev", "pxe", "options=efiboot,persistent").exitCode());
                // parameter 5: valid, persistent, EFI; device PXE
                assertArrayEquals(new byte[] {(byte) 0xe0, 0x04, 0, 0, 0}, bmc.bootFlags(), "suite " + suite);
                assertEquals(0, ipmitool(sim, suite == 3 ? 1 : 2, suite, "chassis", "bootdev", "cdrom").exitCode());
                assertEquals(0x14, bmc.bootFlags()[1]);
                assertTrue(ipmitool(sim, suite == 3 ? 1 : 2, suite, "chassis", "bootparam", "get", "5").output().contains("Force Boot from CD/DVD"));
                assertTrue(ipmitool(sim, suite == 3 ? 1 : 2, suite, "mc", "info").output().contains("IPMI Version              : 2.0"));
                assertEquals(0, bmc.openSessions(), "ipmitool closed its sessions");
            }
            // wrong password, unknown user and a suite without integrity and encryption are refused
            assertTrue(IpmiTool.run(sim.host(0), sim.options().port(), 3, "admin", "wrong", "power", "status").exitCode() != 0);
            assertTrue(IpmiTool.run(sim.host(0), sim.options().port(), 17, "bob", "ipmi-secret", "power", "status").exitCode() != 0);
            IpmiSimProcess.Run clear = ipmitool(sim, 0, 0, "power", "status");
            assertTrue(clear.output().contains("no matching cipher suite"), clear.output());
            assertEquals(0, sim.bmc(0).openSessions());
        }
    }

    @Test
    void ourClientDrivesItWithSuite17AndManyBmcsShareOneSocket() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()).withBmcs(20))) {
            java.util.List<BmcEndpoint> bmcs = new java.util.ArrayList<>();
            for (int i = 0; i < sim.size(); i++) {
                bmcs.add(new BmcEndpoint(UUID.randomUUID(), sim.host(i), sim.options().port(), "admin", "ipmi-secret", Optional.empty()));
            }
            // all twenty at once
            await(Uni.join().all(bmcs.stream().map(b -> driver.setPower(b, PowerAction.ON)).toList()).andFailFast());
            for (int i = 0; i < sim.size(); i++) {
                assertTrue(sim.bmc(i).powerOn(), "bmc " + i);
            }
            assertEquals(PowerState.ON, await(driver.powerState(bmcs.get(3))));
            await(driver.setBootDevice(bmcs.get(3), new BootOverride(BootOverride.Device.DISK, true, BootOverride.Mode.UEFI)));
            assertEquals(new BootOverride(BootOverride.Device.DISK, true, BootOverride.Mode.UEFI), await(driver.bootDevice(bmcs.get(3))));
            await(driver.setPower(bmcs.get(3), PowerAction.GRACEFUL_OFF));
            assertFalse(sim.bmc(3).powerOn());
            DriverException cycleWhileOff = org.junit.jupiter.api.Assertions.assertThrows(DriverException.class,
                    () -> await(client.command(bmcs.get(3), 0x00, 0x02, new byte[] {0x02}).map(r -> {
                        if (r.completionCode() != 0) {
                            throw new DriverException(DriverException.Kind.BMC_ERROR, CompletionCodes.describe(r.completionCode()));
                        }
                        return r;
                    })));
            assertTrue(cycleWhileOff.getMessage().contains("not supported in the present state"), cycleWhileOff.getMessage());
            for (BmcEndpoint b : bmcs) {
                await(driver.release(b));
            }
            for (int i = 0; i < sim.size(); i++) {
                assertEquals(0, sim.bmc(i).openSessions(), "closed on release: bmc " + i);
            }
        }
    }

    @Test
    void aBmcNamedByHostNameIsLookedUpAndAnUnknownOneIsUnreachable() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()).at("127.0.0.1"))) {
            BmcEndpoint byName = new BmcEndpoint(UUID.randomUUID(), "localhost", sim.options().port(), "admin", "ipmi-secret", Optional.empty());
            assertEquals(PowerState.OFF, await(driver.powerState(byName)));
            await(driver.release(byName));
            DriverException unknown = org.junit.jupiter.api.Assertions.assertThrows(DriverException.class, () -> await(driver.powerState(
                    new BmcEndpoint(UUID.randomUUID(), "no-such-bmc.invalid", 623, "admin", "x", Optional.empty()))));
            assertEquals(DriverException.Kind.UNREACHABLE, unknown.kind());
            assertTrue(unknown.getMessage().contains("unknown host"), unknown.getMessage());
        }
    }

    @Test
    void anIdleSessionIsClosedBeforeANewOneIsOpenedSoNoneIsLeftOnTheBmc() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()))) {
            BmcEndpoint bmc = new BmcEndpoint(UUID.randomUUID(), sim.host(0), sim.options().port(), "admin", "ipmi-secret", Optional.empty());
            await(driver.powerState(bmc));
            await(driver.powerState(bmc));
            assertEquals(1, sim.bmc(0).openSessions(), "reused while fresh");
            Thread.sleep(2300); // longer than metalgate.ipmi.session-idle in tests (2 s)
            await(driver.powerState(bmc));
            assertEquals(1, sim.bmc(0).openSessions(), "the idle one was closed, not left to expire");
            await(driver.release(bmc));
            assertEquals(0, sim.bmc(0).openSessions());
        }
    }

    @Test
    void insufficientPrivilegeIsNamedAndABusyBmcIsAskedAgain() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()).withBmcs(2))) {
            BmcEndpoint limited = new BmcEndpoint(UUID.randomUUID(), sim.host(0), sim.options().port(), "admin", "ipmi-secret", Optional.empty());
            sim.bmc(0).userPrivilege = 2;
            // a user account reads status (a user's command) but cannot power the machine (an operator's)
            assertEquals(PowerState.OFF, await(driver.powerState(limited)));
            DriverException denied = org.junit.jupiter.api.Assertions.assertThrows(DriverException.class,
                    () -> await(driver.setPower(limited, PowerAction.ON)));
            assertEquals(DriverException.Kind.AUTHENTICATION, denied.kind());
            assertTrue(denied.getMessage().contains("insufficient privilege") && denied.getMessage().contains("act as operator"),
                    denied.getMessage());
            assertFalse(sim.bmc(0).powerOn());

            BmcEndpoint busy = new BmcEndpoint(UUID.randomUUID(), sim.host(1), sim.options().port(), "admin", "ipmi-secret", Optional.empty());
            sim.bmc(1).busyAnswers = 2; // fewer than the retries (2 in tests): answered after waiting
            await(driver.setPower(busy, PowerAction.ON));
            assertTrue(sim.bmc(1).powerOn());
            sim.bmc(1).busyAnswers = 10; // more: a clear error, nothing done
            DriverException stillBusy = org.junit.jupiter.api.Assertions.assertThrows(DriverException.class,
                    () -> await(driver.setPower(busy, PowerAction.OFF)));
            assertEquals(DriverException.Kind.BMC_ERROR, stillBusy.kind());
            assertTrue(stillBusy.getMessage().contains("node busy"), stillBusy.getMessage());
            assertTrue(sim.bmc(1).powerOn());
        }
    }

    /**
     * A network that loses the first answer to each command: the client retransmits (same request sequence,
     * new session sequence), and the BMC answers again without running it again — a power cycle cycles once.
     */
    @Test
    void aRetransmittedCommandIsNotRunTwice() throws Exception {
        SimBmc bmc = new SimBmc(8, "admin", "ipmi-secret", java.util.List.of(3, 17));
        bmc.setPowerOn(true);
        try (DatagramSocket relay = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[2048];
                int before = 0;
                while (!relay.isClosed()) {
                    try {
                        DatagramPacket in = new DatagramPacket(buf, buf.length);
                        relay.receive(in);
                        byte[] answer = bmc.handle(java.util.Arrays.copyOf(in.getData(), in.getLength()));
                        int commandsNow = bmc.commands.get();
                        boolean firstAnswerToACommand = commandsNow > before;
                        before = commandsNow;
                        if (answer != null && !firstAnswerToACommand) {
                            relay.send(new DatagramPacket(answer, answer.length, in.getSocketAddress()));
                        }
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            BmcEndpoint ep = new BmcEndpoint(UUID.randomUUID(), "127.0.0.1", relay.getLocalPort(), "admin", "ipmi-secret", Optional.empty());
            // Set Session Privilege, Get Chassis Status (the cycle asks first) and the cycle: each answer lost once
            await(driver.setPower(ep, PowerAction.CYCLE));
            assertEquals(2, bmc.powerChanges(), "one cycle (off and on), not two");
            assertEquals(3, bmc.retransmissions.get());
            assertTrue(bmc.powerOn());
        }
    }

    /**
     * A network that duplicates every request, replays the previous answer before each new one, and sprays
     * garbage: the BMC executes each command once, the client takes only the right answer.
     */
    @Test
    void replayedDuplicatedAndGarbageDatagramsAreDroppedOnBothSides() throws Exception {
        SimBmc bmc = new SimBmc(7, "admin", "ipmi-secret", java.util.List.of(3, 17));
        try (DatagramSocket relay = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            Thread t = new Thread(() -> {
                byte[] previous = null;
                byte[] buf = new byte[2048];
                java.util.Random noise = new java.util.Random(7);
                while (!relay.isClosed()) {
                    try {
                        DatagramPacket in = new DatagramPacket(buf, buf.length);
                        relay.receive(in);
                        byte[] req = java.util.Arrays.copyOf(in.getData(), in.getLength());
                        byte[] answer = bmc.handle(req);
                        bmc.handle(req); // the same request again: a replay the BMC must not execute
                        byte[] junk = new byte[1 + noise.nextInt(80)];
                        noise.nextBytes(junk);
                        relay.send(new DatagramPacket(junk, junk.length, in.getSocketAddress()));
                        if (previous != null) {
                            relay.send(new DatagramPacket(previous, previous.length, in.getSocketAddress()));
                        }
                        if (answer != null) {
                            relay.send(new DatagramPacket(answer, answer.length, in.getSocketAddress()));
                            previous = answer;
                        }
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            BmcEndpoint ep = new BmcEndpoint(UUID.randomUUID(), "127.0.0.1", relay.getLocalPort(), "admin", "ipmi-secret", Optional.empty());
            long droppedBefore = client.dropped();
            await(driver.setPower(ep, PowerAction.ON));
            assertEquals(PowerState.ON, await(driver.powerState(ep)));
            await(driver.setPower(ep, PowerAction.OFF));
            assertEquals(PowerState.OFF, await(driver.powerState(ep)));
            assertEquals(2, bmc.powerChanges(), "each Chassis Control executed once");
            // set privilege + 4 commands; the duplicates were all refused by the sequence window
            assertEquals(5, bmc.commands.get());
            assertTrue(client.dropped() - droppedBefore >= 8, "garbage and replayed answers dropped: " + (client.dropped() - droppedBefore));
            await(driver.release(ep));
            assertEquals(0, bmc.openSessions());
        }
    }

    /**
     * The privilege asked for is the lowest each command needs (Ironic's ipmi_priv_level is the override): a BMC
     * that enforces limits lets an operator account do an operator's work, which administrator hard-coded refused.
     */
    @Test
    void anOperatorAccountReadsAndPowersAndAMachineMayAskForMore() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()).withBmcs(2))) {
            sim.bmc(0).userPrivilege = 3;
            BmcEndpoint operator = new BmcEndpoint(UUID.randomUUID(), sim.host(0), sim.options().port(), "admin", "ipmi-secret",
                    Optional.empty());
            assertEquals(PowerState.OFF, await(driver.powerState(operator)));
            await(driver.setPower(operator, PowerAction.ON));
            assertTrue(sim.bmc(0).powerOn());
            await(driver.setBootDevice(operator, new BootOverride(BootOverride.Device.PXE, false, BootOverride.Mode.LEGACY)));
            assertEquals(PowerState.ON, await(driver.powerState(operator)));
            assertEquals(2, sim.bmc(0).sessionsOpened.get(), "a user session for the status, an operator one from the power-on on");
            // the same account with the per-machine override asking for administrator: refused, and named
            sim.bmc(1).userPrivilege = 3;
            BmcEndpoint asAdmin = new BmcEndpoint(UUID.randomUUID(), sim.host(1), sim.options().port(), "admin", "ipmi-secret",
                    Optional.empty(), new BmcEndpoint.Options(Optional.empty(), Optional.of(BmcEndpoint.IpmiPrivilege.ADMINISTRATOR),
                            java.util.Map.of()));
            DriverException e = org.junit.jupiter.api.Assertions.assertThrows(DriverException.class, () -> await(driver.powerState(asAdmin)));
            assertTrue(e.getMessage().contains("act as administrator"), e.getMessage());
        }
    }

    /** A command that goes unanswered keeps the session: a slow BMC is not made slower by new sessions. */
    @Test
    void aTimedOutCommandKeepsTheSessionAndANewPasswordClosesTheOldOne() throws Exception {
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(freePort()).withBmcs(1))) {
            BmcEndpoint bmc = new BmcEndpoint(UUID.randomUUID(), sim.host(0), sim.options().port(), "admin", "ipmi-secret",
                    Optional.empty());
            assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
            assertEquals(1, sim.bmc(0).sessionsOpened.get());
            sim.bmc(0).silent = true;
            DriverException lost = org.junit.jupiter.api.Assertions.assertThrows(DriverException.class, () -> await(driver.powerState(bmc)));
            assertEquals(DriverException.Kind.TIMEOUT, lost.kind());
            sim.bmc(0).silent = false;
            assertEquals(PowerState.OFF, await(driver.powerState(bmc)));
            assertEquals(1, sim.bmc(0).sessionsOpened.get(), "no new session after one unanswered command");
            assertEquals(1, sim.bmc(0).openSessions());
            // new credentials (here: another privilege level) close the old session on the BMC before the next opens
            BmcEndpoint changed = new BmcEndpoint(bmc.machineId(), bmc.host(), bmc.port(), "admin", "ipmi-secret", Optional.empty(),
                    new BmcEndpoint.Options(Optional.empty(), Optional.of(BmcEndpoint.IpmiPrivilege.OPERATOR), java.util.Map.of()));
            assertEquals(PowerState.OFF, await(driver.powerState(changed)));
            assertEquals(2, sim.bmc(0).sessionsOpened.get());
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (sim.bmc(0).openSessions() > 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, sim.bmc(0).openSessions(), "the old session was closed");
        }
    }

    @Test
    void aCipherSuiteListWithoutIntegrityAndEncryptionStopsTheStart() {
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> IpmiClient.suites(java.util.List.of(17, 0)));
        assertTrue(e.getMessage().contains("metalgate.ipmi.cipher-suites=[17, 0]: suite 0 is not allowed"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> IpmiClient.suites(java.util.List.of()));
        assertEquals(2, IpmiClient.suites(java.util.List.of(17, 3)).size());
        assertEquals(IpmiClient.OPERATOR, IpmiClient.needed(0x00, 0x02));
        assertEquals(IpmiClient.USER, IpmiClient.needed(0x00, 0x01));
    }
}
