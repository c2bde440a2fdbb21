package io.metalgate.driver.api;

import io.smallrye.mutiny.Uni;
import java.util.List;

/**
 * The hardware interfaces (after Ironic's {@code PowerInterface}, {@code ManagementInterface}, …). A
 * protocol implements those it can; {@link Driver} bundles them. Every method fails only with
 * {@link DriverException}.
 */
public final class Interfaces {

    private Interfaces() {
    }

    public interface Power {
        /** The power state now. */
        Uni<PowerState> powerState(BmcEndpoint bmc);

        /** Asks for a power change; completes when the BMC accepted it. */
        Uni<Void> setPower(BmcEndpoint bmc, PowerAction action);
    }

    public interface Management {
        /** Sets the boot device for the next boot ({@code persistent} false) or until changed. */
        Uni<Void> setBootDevice(BmcEndpoint bmc, BootOverride override);

        Uni<BootOverride> bootDevice(BmcEndpoint bmc);
    }

    public interface VirtualMedia {
        /** Inserts a CD/DVD image the BMC fetches from {@code imageUrl}. */
        Uni<Void> insert(BmcEndpoint bmc, String imageUrl);

        Uni<Void> eject(BmcEndpoint bmc);
    }

    public interface Inspect {
        Uni<Inventory> inspect(BmcEndpoint bmc);
    }

    /** BMC-side secure erase where the hardware offers it (the erase agent is the other way). */
    public interface Erase {
        /** Erases every disk that offers a BMC-side erase; fails UNSUPPORTED if none does. */
        Uni<List<DiskErase>> secureErase(BmcEndpoint bmc);
    }

    /** What happened to one disk: the technique used and the BMC's final task state. */
    public record DiskErase(String diskId, String serialNumber, String technique, String result) {
    }

    /** Power events pushed by the BMC (Redfish EventService); protocols without them are polled. */
    public interface PowerEvents {
        /** Subscribes {@code destination}; the subscription's URI, or empty when the BMC cannot push events. */
        Uni<java.util.Optional<String>> subscribe(BmcEndpoint bmc, String destination, String context);
    }

    /** One protocol's implementations of the interfaces. */
    public interface Driver extends Power, Management, VirtualMedia, Inspect, Erase {
        String protocol();

        /** Ends any session held with this BMC (logout). */
        /**
         * What the hardware behind the BMC says it is (a system GUID or UUID), when the protocol tells it at no
         * extra cost; empty otherwise. Two machines with one hardware identity are one server.
         */
        default Uni<java.util.Optional<String>> hardwareId(BmcEndpoint bmc) {
            return Uni.createFrom().item(java.util.Optional.empty());
        }

        /**
         * Every spelling of the hardware identity that another protocol could report for the same server (an IPMI
         * GUID's bytes are read in more than one order by vendors; a Redfish UUID is one string): the first is
         * {@link #hardwareId}'s. Empty when the protocol tells none.
         */
        default Uni<List<String>> hardwareIds(BmcEndpoint bmc) {
            return hardwareId(bmc).map(id -> id.map(List::of).orElse(List.of()));
        }

        Uni<Void> release(BmcEndpoint bmc);
    }
}
