package io.metalgate.conductor;

import static io.metalgate.testing.Api.operator;
import static io.metalgate.testing.Api.unique;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.ipmisim.IpmiSim;
import io.metalgate.redfishmock.Profile;
import io.metalgate.redfishmock.QemuHost;
import io.metalgate.redfishmock.RedfishMock;
import io.metalgate.testing.Api;
import io.metalgate.testing.Lifecycle;
import io.metalgate.testing.PostgresTestResource;
import io.metalgate.testing.PxeLab;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Erase for real, end to end, in QEMU virtual machines (TCG) that network-boot from the appliance: each VM behind an
 * emulated BMC (redfish-mocks' QEMU backend, or the project's IPMI simulator given the same backend), on a bridge in
 * a network namespace where the appliance's own dnsmasq child hands out addresses ({@link PxeLab}; QEMU's user-mode
 * network where namespaces are refused — the test prints which ran). The gate allows an erase; the conductor sets a
 * one-time PXE boot and power-cycles through the BMC; the VM's iPXE gets its script by MAC, boots the agent built by
 * iso-builder/build, which erases, reads back and reports; the certificate is issued and the disk images on the host
 * hold no trace of the pattern they were filled with. A hold placed while the VM boots stops it before anything is
 * erased; a discard the device ignores is caught by the read-back.
 */
@QuarkusTest
@TestProfile(EraseVmTest.Lab.class)
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class EraseVmTest {

    public static class Lab implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(PxeLab.class));
        }
    }

    private static final byte[] MARK = "METALGATE-PATTERN".getBytes(StandardCharsets.US_ASCII);
    private static final int DISK_MIB = 24;

    /** A VM's disk images and its QEMU arguments. */
    record Vm(QemuHost host, Path dir, Path nvme, Path virtio, Path scsi) implements AutoCloseable {

        /** Stops the VM and removes its directory (three disk images a run: /tmp filled up with them). */
        @Override
        public void close() {
            try {
                host.close();
            } finally {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (IOException e) {
                    System.err.println("EraseVmTest: could not remove " + dir + ": " + e);
                }
            }
        }

        /** What the VM printed (serial console) and its firmware's log, for a failed run's message. */
        String logs() {
            StringBuilder b = new StringBuilder("\nnetwork: " + PxeLab.mode());
            for (String f : List.of("serial.log", "firmware.log", "qemu.out")) {
                try {
                    String text = Files.exists(dir.resolve(f)) ? Files.readString(dir.resolve(f), StandardCharsets.ISO_8859_1) : "(none)";
                    b.append("\n--- ").append(f).append(" (tail) ---\n").append(text.substring(Math.max(0, text.length() - 4000)));
                } catch (IOException e) {
                    b.append(e);
                }
            }
            return b.toString();
        }
    }

    /**
     * A VM with an NVMe disk and a virtio disk, each filled with the pattern; {@code virtioDiscard}: what QEMU does with
     * the virtio disk's discards ("off": the device offers none; "ignore": offered, and ignored — QEMU's default).
     */
    static Vm vm(String name, int tap, String mac, UUID systemUuid, String nvmeSerial, String virtioSerial, String virtioDiscard) throws IOException {
        return vm(name, tap, mac, systemUuid, nvmeSerial, virtioSerial, virtioDiscard, null);
    }

    /**
     * The same VM with a third disk, on a SCSI bus ({@code virtio-scsi}, QEMU's {@code scsi-hd}: a disk the guest's
     * kernel drives as {@code sd*}, answering SCSI commands — INQUIRY and its VPD pages, READ CAPACITY (16), REPORT
     * SUPPORTED OPERATION CODES — as QEMU emulates them) when {@code scsiSerial} is given.
     */
    static Vm vm(String name, int tap, String mac, UUID systemUuid, String nvmeSerial, String virtioSerial, String virtioDiscard,
            String scsiSerial) throws IOException {
        Path dir = Files.createTempDirectory("erase-vm-" + name);
        Path nvme = dir.resolve("nvme.img");
        Path virtio = dir.resolve("virtio.img");
        fill(nvme);
        fill(virtio);
        List<String> args = new ArrayList<>(List.of("-uuid", systemUuid.toString(),
                "-drive", "file=" + nvme + ",if=none,id=d1,format=raw", "-device", "nvme,drive=d1,serial=" + nvmeSerial,
                "-drive", "file=" + virtio + ",if=none,id=d2,format=raw" + (virtioDiscard.equals("off") ? "" : ",discard=" + virtioDiscard),
                "-device", "virtio-blk-pci,drive=d2,serial=" + virtioSerial + (virtioDiscard.equals("off") ? ",discard=off" : ",discard=on")));
        Path scsi = null;
        if (scsiSerial != null) {
            scsi = dir.resolve("scsi.img");
            fill(scsi);
            args.addAll(List.of("-device", "virtio-scsi-pci,id=scsi0", "-drive", "file=" + scsi + ",if=none,id=d3,format=raw,discard=unmap",
                    "-device", "scsi-hd,bus=scsi0.0,drive=d3,serial=" + scsiSerial));
        }
        args.addAll(PxeLab.network(tap, mac));
        return new Vm(new QemuHost(dir, mac, args, PxeLab.qemuCommand()), dir, nvme, virtio, scsi);
    }

    /** The pattern: every 4 KiB block names itself, so any block left behind is found. */
    static void fill(Path img) throws IOException {
        byte[] data = new byte[DISK_MIB << 20];
        for (int block = 0; block < data.length / 4096; block++) {
            byte[] line = ("METALGATE-PATTERN block " + block + " ").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 4096; i++) {
                data[block * 4096 + i] = line[i % line.length];
            }
        }
        Files.write(img, data);
    }

    /** Blocks of the image that still hold the pattern. */
    static int patternBlocks(Path img) throws IOException {
        byte[] data = Files.readAllBytes(img);
        int n = 0;
        for (int block = 0; block < data.length / 4096; block++) {
            if (java.util.Arrays.equals(data, block * 4096, block * 4096 + MARK.length, MARK, 0, MARK.length)) {
                n++;
            }
        }
        return n;
    }

    static byte[] sha256(Path img) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(img));
    }

    /**
     * A VM behind one emulated Redfish BMC (its MAC, system UUID and drive serials are the BMC's), its machine brought
     * through its lifecycle to RETAINED, past retention and with a proven notice: an erase of it can be allowed.
     */
    record RedfishVm(RedfishMock bmcs, io.metalgate.redfishmock.MockBmc bmc, Vm vm, Lifecycle.Fleet fleet) implements AutoCloseable {

        String machine() {
            return fleet.machines().get(0);
        }

        @Override
        public void close() {
            try {
                vm.close();
            } finally {
                bmcs.close();
            }
        }
    }

    static RedfishVm redfishVm(String name, int tap, String virtioDiscard) throws IOException {
        RedfishMock bmcs = Lifecycle.bmcs(1, Profile.GENERIC);
        Vm vm = null;
        try {
            var bmc = bmcs.bmc(0);
            vm = vm(name, tap, bmc.mac(1), bmc.systemUuid(), bmc.driveSerial(1), bmc.driveSerial(2), virtioDiscard);
            bmc.attach(vm.host());
            return new RedfishVm(bmcs, bmc, vm, Lifecycle.pastRetentionWithNotice(Lifecycle.retained(bmcs, 1, "vm-" + name)));
        } catch (RuntimeException | IOException e) {
            if (vm != null) {
                vm.close();
            }
            bmcs.close();
            throw e;
        }
    }

    /** Waits for one of {@code states}; the VM's logs in the failure. */
    static String awaitEnd(String machine, Vm vm, List<String> states, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String now = null;
        while (System.nanoTime() < deadline) {
            now = operator().get("/api/machines/" + machine).then().statusCode(200).extract().path("state");
            if (states.contains(now)) {
                return now;
            }
            Lifecycle.sleep(500);
        }
        throw new AssertionError("machine " + machine + " is " + now + " after " + seconds + " s, not " + states + vm.logs());
    }

    /** Waits until the VM is off (the agent powers it off when it is done). */
    static void awaitOff(Vm vm, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (vm.host().poweredOn()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the VM did not power itself off" + vm.logs());
            }
            Lifecycle.sleep(250);
        }
    }

    /** (a) A Redfish-controlled VM: erased, verified, certified; the images hold no trace of the pattern. */
    @Test
    void anAllowedEraseWipesBothDisksOfARealVmAndIsCertified() throws Exception {
        try (RedfishVm r = redfishVm("a", 0, "off")) {
            var bmc = r.bmc();
            Vm vm = r.vm();
            String m = r.machine();
            assertTrue(patternBlocks(vm.nvme()) > 0 && patternBlocks(vm.virtio()) > 0);
            long started = System.nanoTime();
            Lifecycle.allowedErase(m);
            if (PxeLab.namespaces()) {
                // whoever knows the MAC but is not the address DHCP leased to it gets no agent token
                String outsider = io.restassured.RestAssured.given().queryParam("mac", bmc.mac(1)).get("/boot/ipxe").then().statusCode(200)
                        .extract().asString();
                assertFalse(outsider.contains("metalgate.token="), outsider);
                Lifecycle.awaitAudit("machine:" + m, "boot.token-refused", 1);
            }
            assertEquals("ERASED", awaitEnd(m, vm, List.of("ERASED", "ERASE_FAILED"), 240), vm.logs());
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("EraseVmTest (a): erase allowed → certificate in %.1f s (network: %s)%n", seconds, PxeLab.mode());
            awaitOff(vm, 60);

            JsonPath cert = operator().get("/api/machines/" + m + "/erase-certificates").then().statusCode(200).extract().jsonPath();
            assertEquals(1, cert.getList("$").size());
            assertEquals(List.of(bmc.driveSerial(1), bmc.driveSerial(2)).stream().sorted().toList(),
                    cert.<String>getList("[0].body.disks.serialNumber").stream().sorted().toList());
            List<String> techniques = cert.getList("[0].body.disks.techniqueId");
            assertTrue(techniques.contains("OVERWRITE"), "the virtio disk offers nothing but an overwrite: " + techniques);
            assertTrue(techniques.stream().anyMatch(t -> t.startsWith("NVME_")), "the NVMe disk gets an NVMe technique: " + techniques);
            assertEquals(List.of(true, true), cert.getList("[0].body.disks.verification.passed"));
            assertEquals(0, patternBlocks(vm.nvme()), "the NVMe image still holds the pattern" + vm.logs());
            assertEquals(0, patternBlocks(vm.virtio()), "the virtio image still holds the pattern" + vm.logs());
            // the agent said what it found, on the hardware it belongs to
            Api.admin().queryParam("subject", "machine:" + m).queryParam("action", "erase.disks-found").get("/api/audit").then()
                    .body("items[0].payload.identityConfirmed", equalTo(true));
        }
    }

    /** (b) A hold placed while the VM boots: the agent gets no task, the disks are untouched, the refusal audited. */
    @Test
    void aHoldPlacedWhileTheVmBootsStopsTheEraseBeforeAnything() throws Exception {
        try (RedfishVm r = redfishVm("b", 1, "off")) {
            var bmc = r.bmc();
            Vm vm = r.vm();
            var fleet = r.fleet();
            String m = r.machine();
            byte[] nvmeBefore = sha256(vm.nvme());
            byte[] virtioBefore = sha256(vm.virtio());
            Lifecycle.allowedErase(m);
            // counsel's preservation request arrives while the machine is booting its agent
            Api.as("legal").body(Map.of("kind", "PRESERVATION_REQUEST", "tenantId", fleet.tenant(), "reason", "letter from counsel"))
                    .post("/api/holds").then().statusCode(201);
            assertEquals("ERASE_FAILED", awaitEnd(m, vm, List.of("ERASED", "ERASE_FAILED"), 240), vm.logs());
            awaitOff(vm, 60);
            assertArrayEquals(nvmeBefore, sha256(vm.nvme()), "the NVMe disk was written to" + vm.logs());
            assertArrayEquals(virtioBefore, sha256(vm.virtio()), "the virtio disk was written to" + vm.logs());
            Api.admin().queryParam("subject", "machine:" + m).queryParam("action", "gate.decided").get("/api/audit").then()
                    .body("items.findAll { it.actor == 'agent:" + m + "' }.payload.allowed", hasItem(false));
            operator().get("/api/machines/" + m + "/erase-certificates").then().statusCode(200).body("size()", equalTo(0));
            assertTrue(Files.readString(vm.dir().resolve("serial.log"), StandardCharsets.ISO_8859_1).contains("no task"), vm.logs());
        }
    }

    /** (c) blkdiscard allowed by policy on a disk whose discards QEMU ignores: the read-back catches it, ERASE_FAILED. */
    @Test
    void aDiscardTheDiskIgnoresIsCaughtByTheReadBack() throws Exception {
        try (RedfishVm r = redfishVm("c", 2, "ignore")) {
            var bmc = r.bmc();
            Vm vm = r.vm();
            String m = r.machine();
            Lifecycle.allowedErase(m);
            assertEquals("ERASE_FAILED", awaitEnd(m, vm, List.of("ERASED", "ERASE_FAILED"), 240), vm.logs());
            awaitOff(vm, 60);
            assertTrue(patternBlocks(vm.virtio()) > 0, "QEMU ignored the discard: the pattern is still there");
            operator().get("/api/machines/" + m + "/erase-certificates").then().statusCode(200).body("size()", equalTo(0));
            String serial = Files.readString(vm.dir().resolve("serial.log"), StandardCharsets.ISO_8859_1);
            assertTrue(serial.contains("still hold data after BLKDISCARD_ZEROES"), vm.logs());
            Api.admin().queryParam("subject", "machine:" + m).get("/api/audit").then()
                    .body("items.action", hasItem("erase.report-refused"));
        }
    }

    /** (d) The same erase as (a) for a VM behind the IPMI simulator: boot MAC named by an operator, disks found by the agent. */
    @Test
    void anIpmiControlledVmIsErasedAndCertifiedToo() throws Exception {
        int port;
        try (var s = new java.net.DatagramSocket(0)) {
            port = s.getLocalPort();
        }
        try (IpmiSim sim = IpmiSim.start(IpmiSim.Options.one(port).at("127.0.0.1"))) {
            var bmc = sim.bmc(0);
            bmc.fru = HexFormat.of().parseHex(new String(EraseVmTest.class.getResourceAsStream("/ipmi-fru/dell-r630.hex").readAllBytes(),
                    StandardCharsets.US_ASCII).replaceAll("\\s", ""));
            String h = HexFormat.of().formatHex(bmc.guid());
            UUID uuid = UUID.fromString(h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-"
                    + h.substring(20));
            String mac = String.format("52:54:00:%02x:%02x:%02x", port >> 8 & 0xff, port & 0xff, 0x0d);
            // a third disk on a SCSI bus: the agent's SCSI path (serial from the VPD page, sg_opcodes, sg_readcap,
            // sg_vpd) against a device that answers SCSI commands, not only against captured outputs
            Vm vm = vm("d", 3, mac, uuid, "IPMINVME" + port, "IPMIVIRT" + port, "off", "IPMISCSI" + port);
            bmc.attach(vm.host());
            try {
                String tenant = operator().body(Map.of("name", unique("vm-d"))).post("/api/tenants").then().statusCode(201).extract().path("id");
                String m = operator().body(Map.of("name", unique("vm-d"), "bmc", Map.of("protocol", "IPMI", "host", "127.0.0.1", "port", port,
                        "username", "admin", "password", "ipmi-secret"))).post("/api/machines").then().statusCode(201).extract().path("id");
                Lifecycle.awaitState(m, "MANAGEABLE");
                operator().post("/api/machines/" + m + "/inventory").then().statusCode(200);
                Lifecycle.awaitState(m, "AVAILABLE");
                // IPMI reports no NICs: the operator names the boot MAC
                operator().body(Map.of("macs", List.of(mac.toUpperCase()))).put("/api/machines/" + m + "/boot-macs").then().statusCode(200)
                        .body("mac", hasItem(mac));
                String lease = Lifecycle.activeLease(tenant, List.of(m));
                Api.as("billing").body(Map.of("event", "TERMINATED")).post("/api/leases/" + lease + "/events").then().statusCode(200);
                Lifecycle.awaitState(m, "RETAINED");
                Lifecycle.pastRetentionWithNotice(new Lifecycle.Fleet(tenant, lease, List.of(m)));
                long started = System.nanoTime();
                Lifecycle.allowedErase(m);
                assertEquals("ERASED", awaitEnd(m, vm, List.of("ERASED", "ERASE_FAILED"), 240), vm.logs());
                System.out.printf("EraseVmTest (d, IPMI): erase allowed → certificate in %.1f s%n", (System.nanoTime() - started) / 1e9);
                awaitOff(vm, 60);
                operator().get("/api/machines/" + m + "/erase-certificates").then().statusCode(200).body("size()", equalTo(1))
                        .body("[0].body.disks.serialNumber", containsInAnyOrder("IPMINVME" + port, "IPMIVIRT" + port, "IPMISCSI" + port))
                        .body("[0].body.disks.verification.passed", equalTo(List.of(true, true, true)));
                System.out.println("EraseVmTest (d): the SCSI disk's technique: " + operator().get("/api/machines/" + m + "/erase-certificates")
                        .then().extract().path("[0].body.disks.find { it.serialNumber == 'IPMISCSI" + port + "' }.techniqueId"));
                assertEquals(0, patternBlocks(vm.nvme()), vm.logs());
                assertEquals(0, patternBlocks(vm.virtio()), vm.logs());
                assertEquals(0, patternBlocks(vm.scsi()), vm.logs());
                // the disks the BMC could not see are in the inventory now, found by the agent on this machine's hardware
                operator().get("/api/machines/" + m + "/inventory").then().body("disks.serialNumber", hasItem("IPMIVIRT" + port));
                assertFalse(vm.host().poweredOn());
            } finally {
                vm.close();
            }
        }
    }
}
