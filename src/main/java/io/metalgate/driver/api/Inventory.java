package io.metalgate.driver.api;

import java.util.List;

/**
 * What inspection found: the system, its processors, memory, disks, volumes and network interfaces — only
 * what is present (an empty socket, slot or bay is not hardware), with unknown sizes null, never 0. The
 * REASSIGN gate compares an erase certificate's disks with {@link #disks()}, so every drive that may hold
 * data is here once, and a disabled drive too ({@code state}).
 */
public record Inventory(String manufacturer, String model, String serialNumber, List<Processor> processors, List<MemoryModule> memory,
        List<Disk> disks, List<Nic> nics, List<Volume> volumes) {

    public Inventory(String manufacturer, String model, String serialNumber, List<Processor> processors, List<MemoryModule> memory,
            List<Disk> disks, List<Nic> nics) {
        this(manufacturer, model, serialNumber, processors, memory, disks, nics, List.of());
    }

    /** {@code type}: CPU, GPU, FPGA, DSP, Accelerator, OEM … (Redfish ProcessorType); only CPUs are CPUs. */
    public record Processor(String id, String type, String model, Integer cores, Integer threads) {

        public boolean cpu() {
            return "CPU".equals(type);
        }
    }

    public record MemoryModule(String id, Long capacityMiB, String type, String serialNumber) {
    }

    /**
     * A physical drive. {@code protocol} NVMe, SATA, SAS …; {@code mediaType} SSD or HDD; {@code state} the
     * Redfish Status.State (Enabled, Disabled, StandbyOffline …; null when the BMC says nothing).
     */
    public record Disk(String id, String model, String serialNumber, Long capacityBytes, String protocol, String mediaType, String state) {
    }

    public record Nic(String id, String mac, Integer speedMbps) {
    }

    /** A volume (a RAID volume, or an NVMe namespace of a drive): not a drive itself. */
    public record Volume(String id, Long capacityBytes, boolean nvmeNamespace) {
    }

    /** The processors that are CPUs. */
    public long cpuCount() {
        return processors.stream().filter(Processor::cpu).count();
    }
}
