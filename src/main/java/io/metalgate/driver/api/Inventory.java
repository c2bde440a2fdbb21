package io.metalgate.driver.api;

import java.util.List;

/** What inspection found: the system, its processors, memory, disks and network interfaces. */
public record Inventory(String manufacturer, String model, String serialNumber, List<Processor> processors, List<MemoryModule> memory,
        List<Disk> disks, List<Nic> nics) {

    public record Processor(String id, String model, int cores, int threads) {
    }

    public record MemoryModule(String id, long capacityMiB, String type, String serialNumber) {
    }

    /** @param protocol NVMe, SATA, SAS …; {@code mediaType} SSD or HDD */
    public record Disk(String id, String model, String serialNumber, long capacityBytes, String protocol, String mediaType) {
    }

    public record Nic(String id, String mac, Integer speedMbps) {
    }
}
