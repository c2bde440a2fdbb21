package io.metalgate.driver.redfish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.Inventory;
import io.metalgate.testing.PostgresTestResource;
import io.metalgate.testing.StaticRedfish;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DMTF's public Redfish mockups (src/test/resources/redfish-payloads/dmtf, with their source), served as
 * they are: inspection must find what each system has — present CPUs by ProcessorType, present modules,
 * every present drive once, namespaces apart, physical MACs — as worked out by hand in each expected.json.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class DmtfMockupTest {

    @Inject
    RedfishDriver driver;

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"public-rackmount1", "public-tower", "public-bladed", "public-smartnic", "public-nvmeof-jbof", "public-cxl"})
    void inventoryIsWhatTheMockupHas(String mockup) throws Exception {
        JsonNode expected = JSON.readTree(Files.readString(StaticRedfish.fixture(mockup).resolve("expected.json"))).get("systems");
        try (StaticRedfish bmc = StaticRedfish.start(StaticRedfish.fixture(mockup))) {
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext();) {
                var e = it.next();
                String systemId = e.getKey();
                JsonNode want = e.getValue();
                BmcEndpoint ep = new BmcEndpoint(UUID.randomUUID(), bmc.host(), bmc.port(), bmc.username(), bmc.password(),
                        Optional.of(bmc.certificateSha256()), new BmcEndpoint.Options(
                                expected.size() > 1 ? Optional.of(systemId) : Optional.empty(), Optional.empty(), Map.of()));
                String where = mockup + "/" + systemId;
                if (want.get("cpus").isNull()) {
                    // the mockup links collections it does not hold: a clear error naming the BMC, not a wrong inventory
                    DriverException missing = assertThrows(DriverException.class,
                            () -> driver.inspect(ep).await().atMost(Duration.ofSeconds(30)), where);
                    assertTrue(missing.getMessage().contains("404"), where + ": " + missing.getMessage());
                    continue;
                }
                Inventory inv = driver.inspect(ep).await().atMost(Duration.ofSeconds(30));
                assertEquals(want.get("cpus").asLong(), inv.cpuCount(), where + " CPUs: " + inv.processors());
                List<String> others = new ArrayList<>();
                want.get("otherProcessors").forEach(p -> others.add(p.get("id").asText() + ":" + p.get("type").asText()));
                assertEquals(sorted(others), sorted(inv.processors().stream().filter(p -> !p.cpu()).map(p -> p.id() + ":" + p.type())
                        .toList()), where + " other processors");
                assertEquals(want.get("dimms").asInt(), inv.memory().size(), where + " memory modules: " + inv.memory());
                Long mib = inv.memory().isEmpty() || inv.memory().stream().anyMatch(m -> m.capacityMiB() == null) ? null
                        : inv.memory().stream().mapToLong(Inventory.MemoryModule::capacityMiB).sum();
                assertEquals(want.get("memoryMiB").isNull() ? null : want.get("memoryMiB").asLong(), mib, where + " memory MiB");
                List<String> drives = new ArrayList<>();
                want.get("drives").forEach(d -> drives.add(text(d.get("serial")) + "/" + text(d.get("capacityBytes"))));
                assertEquals(sorted(drives), sorted(inv.disks().stream().map(d -> d.serialNumber() + "/" + d.capacityBytes()).toList()),
                        where + " drives: " + inv.disks());
                List<String> disabled = new ArrayList<>();
                want.get("disabledDrives").forEach(d -> disabled.add(d.asText()));
                assertEquals(disabled.size(), inv.disks().stream().filter(d -> "Disabled".equals(d.state())).count(), where + " disabled");
                assertEquals(want.get("nvmeNamespaces").asLong(), inv.volumes().stream().filter(Inventory.Volume::nvmeNamespace).count(),
                        where + " NVMe namespaces: " + inv.volumes());
                List<String> macs = new ArrayList<>();
                want.get("macs").forEach(m -> macs.add(m.asText().toUpperCase(Locale.ROOT)));
                assertEquals(sorted(macs), sorted(inv.nics().stream().map(n -> n.mac().toUpperCase(Locale.ROOT)).toList()), where + " MACs");
                driver.release(ep).await().atMost(Duration.ofSeconds(10));
            }
        }
    }

    /** A blade enclosure's BMC manages four systems: each is addressed by its id, and none named is refused. */
    @org.junit.jupiter.api.Test
    void aBladeEnclosureIsOneMachinePerSystem() {
        try (StaticRedfish bmc = StaticRedfish.start(StaticRedfish.fixture("public-bladed"))) {
            BmcEndpoint any = new BmcEndpoint(UUID.randomUUID(), bmc.host(), bmc.port(), bmc.username(), bmc.password(),
                    Optional.of(bmc.certificateSha256()));
            var systems = driver.systems(any).await().atMost(Duration.ofSeconds(30));
            assertEquals(4, systems.size(), systems.toString());
            DriverException ambiguous = assertThrows(DriverException.class,
                    () -> driver.powerState(any).await().atMost(Duration.ofSeconds(30)));
            assertTrue(ambiguous.getMessage().contains("manages 4 systems") && ambiguous.getMessage().contains(systems.get(0).systemId()),
                    ambiguous.getMessage());
            for (var s : systems) {
                BmcEndpoint one = new BmcEndpoint(UUID.randomUUID(), bmc.host(), bmc.port(), bmc.username(), bmc.password(),
                        Optional.of(bmc.certificateSha256()), new BmcEndpoint.Options(Optional.of(s.systemId()), Optional.empty(), Map.of()));
                driver.powerState(one).await().atMost(Duration.ofSeconds(30));
            }
            DriverException unknown = assertThrows(DriverException.class, () -> driver.powerState(new BmcEndpoint(UUID.randomUUID(),
                    bmc.host(), bmc.port(), bmc.username(), bmc.password(), Optional.of(bmc.certificateSha256()),
                    new BmcEndpoint.Options(Optional.of("Blade9"), Optional.empty(), Map.of()))).await().atMost(Duration.ofSeconds(30)));
            assertTrue(unknown.getMessage().contains("manages no system Blade9"), unknown.getMessage());
            driver.release(any).await().atMost(Duration.ofSeconds(10));
        }
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "null" : n.asText();
    }

    private static List<String> sorted(List<String> l) {
        return new ArrayList<>(new TreeMap<>(l.stream().collect(java.util.stream.Collectors.groupingBy(x -> x,
                java.util.stream.Collectors.counting()))).entrySet().stream().flatMap(e -> java.util.Collections.nCopies(
                        e.getValue().intValue(), e.getKey()).stream()).toList());
    }
}
