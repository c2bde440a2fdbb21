package io.metalgate.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * iso-builder/build, the erase agent's kernel and initramfs from Debian packages: two builds give the same bytes; the
 * manifest names every package with the version installed and every file of the ramdisk with its hash; the ramdisk
 * holds the agent of this checkout, its init, the tools and the drivers an erase needs.
 */
class IsoBuilderTest {

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    @Test
    void twoBuildsGiveTheSameBytesAndTheManifestSaysWhatIsInside() throws Exception {
        // two builds from this checkout (iso-builder/out may be older than the files beside it)
        Path first = Files.createTempDirectory("iso-build");
        Path again = Files.createTempDirectory("iso-repro");
        run(List.of("iso-builder/build", "--out", first.toString()));
        run(List.of("iso-builder/build", "--out", again.toString()));
        for (String f : List.of("vmlinuz", "initrd.img", "manifest.json", "SHA256SUMS")) {
            assertArrayEquals(Files.readAllBytes(first.resolve(f)), Files.readAllBytes(again.resolve(f)), f + " differs between two builds");
        }

        JsonNode manifest = new ObjectMapper().readTree(again.resolve("manifest.json").toFile());
        Map<String, String> packages = new TreeMap<>();
        manifest.get("packages").forEach(p -> packages.put(p.get("package").asText(), p.get("version").asText()));
        for (String p : List.of("busybox", "curl", "nvme-cli", "hdparm", "sg3-utils", "util-linux", "kmod", "libc6")) {
            assertTrue(packages.containsKey(p), p + " missing from the manifest: " + packages);
            assertEquals(run(List.of("dpkg-query", "-W", "-f=${Version}", p)).strip(), packages.get(p), p);
        }
        assertTrue(manifest.at("/kernel/package").asText().startsWith("linux-image-"), manifest.get("kernel").toString());

        // every file of the ramdisk is listed with its hash; the agent and init are this checkout's
        Map<String, String> files = new TreeMap<>();
        manifest.get("files").forEach(f -> files.put(f.get("path").asText(), f.get("sha256").asText()));
        assertEquals(sha256(Path.of("iso-builder/agent/erase-agent.sh")), files.get("/bin/erase-agent"));
        assertEquals(sha256(Path.of("iso-builder/ramdisk/init")), files.get("/init"));
        Path unpacked = Files.createTempDirectory("initrd");
        run(List.of("sh", "-c", "cd " + unpacked + " && zstd -dc " + again.toAbsolutePath().resolve("initrd.img") + " | cpio -id --quiet"));
        List<String> wrong = new ArrayList<>();
        for (var e : files.entrySet()) {
            Path f = unpacked.resolve(e.getKey().substring(1));
            if (!Files.isRegularFile(f) || !sha256(f).equals(e.getValue())) {
                wrong.add(e.getKey());
            }
        }
        assertEquals(List.of(), wrong, "files whose hash is not the manifest's");
        for (String tool : List.of("bin/busybox", "usr/bin/curl", "usr/sbin/nvme", "usr/sbin/hdparm", "usr/bin/sg_sanitize", "usr/sbin/blkdiscard")) {
            assertTrue(Files.isRegularFile(unpacked.resolve(tool)), tool);
        }
        String release = manifest.at("/kernel/release").asText();
        Path modules = unpacked.resolve("lib/modules/" + release);
        for (String module : List.of("kernel/drivers/nvme/host/nvme.ko", "kernel/drivers/block/virtio_blk.ko", "kernel/drivers/ata/ahci.ko",
                "kernel/drivers/scsi/sd_mod.ko", "kernel/drivers/net/ethernet/intel/e1000/e1000.ko", "kernel/drivers/net/ethernet/intel/igb/igb.ko")) {
            assertTrue(Files.isRegularFile(modules.resolve(module)), module);
        }
        // the modules a chosen module needs came along (modules.dep names nothing that is not there)
        for (String line : Files.readAllLines(modules.resolve("modules.dep"))) {
            for (String dep : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                assertTrue(dep.isEmpty() || Files.isRegularFile(modules.resolve(dep)), dep + " (needed by " + line + ")");
            }
        }
    }
}
