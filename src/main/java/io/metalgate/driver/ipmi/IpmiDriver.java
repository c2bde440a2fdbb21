package io.metalgate.driver.ipmi;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.DriverException.Kind;
import io.metalgate.driver.api.Interfaces;
import io.metalgate.driver.api.Inventory;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.driver.api.PowerState;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;

/**
 * The power and management interfaces over IPMI 2.0: Get Chassis Status, Chassis Control, Set / Get
 * System Boot Options parameter 5 (IPMI v2.0 §28.2, §28.3, §28.12–28.13, table 28-14); the FRU inventory
 * and the system GUID. IPMI has no standard virtual media, inventory of disks or BMC-side erase: those
 * answer UNSUPPORTED (the erase agent does the erase).
 */
@ApplicationScoped
public class IpmiDriver implements Interfaces.Driver {

    static final int NETFN_CHASSIS = 0x00;
    static final int NETFN_APP = 0x06;

    @Inject
    IpmiClient client;

    @Override
    public String protocol() {
        return "IPMI";
    }

    @Override
    public Uni<Void> release(BmcEndpoint bmc) {
        return client.release(bmc);
    }

    /**
     * The system GUID, as {@code ipmi-guid:<hex>}: the one the BMC authenticated in its session (RAKP 2), else what
     * Get System GUID answers (IPMI v2.0 §22.14; some BMCs send zeros in RAKP 2); empty when neither tells one.
     */
    @Override
    public Uni<java.util.Optional<String>> hardwareId(BmcEndpoint bmc) {
        return client.systemGuid(bmc).chain(guid -> {
            if (!zero(guid)) {
                return Uni.createFrom().item(guidId(guid));
            }
            return ok(bmc, NETFN_APP, 0x37, new byte[0], "Get System GUID")
                    .map(d -> d.length < 16 || zero(java.util.Arrays.copyOf(d, 16)) ? java.util.Optional.<String>empty()
                            : guidId(java.util.Arrays.copyOf(d, 16)))
                    .onFailure(DriverException.class).recoverWithItem(java.util.Optional.empty());
        });
    }

    /**
     * The system GUID in every order vendors write it: as sent, fully reversed (IPMI v2.0 §22.14 stores the least
     * significant byte first) and SMBIOS's (the first three fields little-endian), each as {@code system-uuid:},
     * where a Redfish system UUID of the same server is claimed; then the protocol's own {@code ipmi-guid:}.
     */
    @Override
    public Uni<List<String>> hardwareIds(BmcEndpoint bmc) {
        return hardwareId(bmc).map(id -> {
            if (id.isEmpty()) {
                return List.<String>of();
            }
            byte[] g = java.util.HexFormat.of().parseHex(id.get().substring("ipmi-guid:".length()));
            byte[] reversed = new byte[16];
            for (int i = 0; i < 16; i++) {
                reversed[i] = g[15 - i];
            }
            byte[] smbios = g.clone();
            swap(smbios, 0, 3);
            swap(smbios, 1, 2);
            swap(smbios, 4, 5);
            swap(smbios, 6, 7);
            java.util.LinkedHashSet<String> ids = new java.util.LinkedHashSet<>();
            ids.add(id.get());
            for (byte[] b : new byte[][] {g, reversed, smbios}) {
                ids.add("system-uuid:" + uuid(b));
            }
            return List.copyOf(ids);
        });
    }

    private static void swap(byte[] b, int i, int j) {
        byte t = b[i];
        b[i] = b[j];
        b[j] = t;
    }

    private static String uuid(byte[] b) {
        String h = java.util.HexFormat.of().formatHex(b);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20);
    }

    private static boolean zero(byte[] guid) {
        for (byte b : guid) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static java.util.Optional<String> guidId(byte[] guid) {
        StringBuilder hex = new StringBuilder("ipmi-guid:");
        for (byte b : guid) {
            hex.append(String.format("%02x", b & 0xff));
        }
        return java.util.Optional.of(hex.toString());
    }

    /** Get Device ID: the BMC's device id, firmware revision and IPMI version (for enrolment checks). */
    public Uni<String> deviceId(BmcEndpoint bmc) {
        return ok(bmc, NETFN_APP, 0x01, new byte[0], "Get Device ID").map(d -> {
            if (d.length < 6) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": Get Device ID answered " + d.length + " bytes");
            }
            return String.format("device 0x%02x, firmware %d.%02x, IPMI %d.%d", d[0] & 0xff, d[2] & 0x7f, d[3] & 0xff, d[4] & 0x0f,
                    (d[4] & 0xf0) >> 4);
        });
    }

    @Override
    public Uni<PowerState> powerState(BmcEndpoint bmc) {
        return powerState(bmc, IpmiClient.USER);
    }

    private Uni<PowerState> powerState(BmcEndpoint bmc, int atLeast) {
        return ok(bmc, NETFN_CHASSIS, 0x01, new byte[0], "Get Chassis Status", atLeast).map(d -> {
            if (d.length < 3) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": Get Chassis Status answered " + d.length + " bytes (at least 3)");
            }
            return (d[0] & 0x01) != 0 ? PowerState.ON : PowerState.OFF;
        });
    }

    /** Chassis Control's byte for an action given the power state now (a cycle or reset of a machine that is off powers it on). */
    static int chassisControl(PowerAction action, PowerState now) {
        return switch (action) {
            case OFF -> 0x00;
            case ON -> 0x01;
            case CYCLE -> now == PowerState.OFF ? 0x01 : 0x02;
            case RESET -> now == PowerState.OFF ? 0x01 : 0x03;
            case GRACEFUL_OFF -> 0x05; // soft shutdown through ACPI
        };
    }

    @Override
    public Uni<Void> setPower(BmcEndpoint bmc, PowerAction action) {
        // the state is read in the operator's session the control then uses: one session, not two
        Uni<PowerState> now = action == PowerAction.CYCLE || action == PowerAction.RESET ? powerState(bmc, IpmiClient.OPERATOR)
                : Uni.createFrom().item(PowerState.ON);
        return now.chain(state -> ok(bmc, NETFN_CHASSIS, 0x02, new byte[] {(byte) chassisControl(action, state)}, "Chassis Control " + action))
                .replaceWithVoid();
    }

    /** Boot flags (parameter 5) for an override: valid, persistent, EFI, and the device selector. */
    static byte[] bootFlags(BootOverride o) {
        if (o.device() == BootOverride.Device.NONE) {
            return new byte[] {0x05, 0x00, 0x00, 0x00, 0x00, 0x00}; // not valid: the normal boot order
        }
        int device = switch (o.device()) {
            case PXE -> 0x01;
            case DISK -> 0x02;
            case CD -> 0x05;
            default -> throw new DriverException(Kind.UNSUPPORTED, "IPMI has no boot device selector for " + o.device());
        };
        int flags1 = 0x80 | (o.persistent() ? 0x40 : 0) | (o.mode() == BootOverride.Mode.UEFI ? 0x20 : 0);
        return new byte[] {0x05, (byte) flags1, (byte) (device << 2), 0x00, 0x00, 0x00};
    }

    static BootOverride parseBootFlags(byte[] d) {
        // response data: parameter version, parameter selector (bit 7: invalid/locked), then the five flag bytes
        if (d.length < 4) {
            throw new DriverException(Kind.MALFORMED_RESPONSE, "boot options parameter 5 answered " + d.length + " bytes");
        }
        int flags1 = d[2] & 0xff;
        int selector = (d[3] & 0x3c) >> 2;
        BootOverride.Device device = switch (selector) {
            case 0x01 -> BootOverride.Device.PXE;
            case 0x02, 0x03 -> BootOverride.Device.DISK;
            case 0x05 -> BootOverride.Device.CD;
            default -> BootOverride.Device.NONE;
        };
        if ((flags1 & 0x80) == 0 && device == BootOverride.Device.NONE) {
            return new BootOverride(BootOverride.Device.NONE, false, BootOverride.Mode.LEGACY);
        }
        return new BootOverride(device, (flags1 & 0x40) != 0, (flags1 & 0x20) != 0 ? BootOverride.Mode.UEFI : BootOverride.Mode.LEGACY);
    }

    @Override
    public Uni<Void> setBootDevice(BmcEndpoint bmc, BootOverride override) {
        byte[] flags;
        try {
            flags = bootFlags(override);
        } catch (DriverException e) {
            return Uni.createFrom().failure(new DriverException(Kind.UNSUPPORTED, bmc + ": " + e.getMessage()));
        }
        return ok(bmc, NETFN_CHASSIS, 0x08, flags, "Set System Boot Options").replaceWithVoid();
    }

    @Override
    public Uni<BootOverride> bootDevice(BmcEndpoint bmc) {
        return ok(bmc, NETFN_CHASSIS, 0x09, new byte[] {0x05, 0x00, 0x00}, "Get System Boot Options").map(IpmiDriver::parseBootFlags);
    }

    @Override
    public Uni<Void> insert(BmcEndpoint bmc, String imageUrl) {
        return unsupported(bmc, "virtual media");
    }

    @Override
    public Uni<Void> eject(BmcEndpoint bmc) {
        return unsupported(bmc, "virtual media");
    }

    /**
     * What the FRU inventory of the board says (FRU device 0: manufacturer, model, serial number). IPMI tells no
     * processors, memory or disks in a standard way: those lists stay empty (the erase agent reports the disks).
     * A FRU area that does not check out leaves its fields out, named in the log.
     */
    @Override
    public Uni<Inventory> inspect(BmcEndpoint bmc) {
        return fru(bmc).map(f -> {
            if (!f.problems().isEmpty()) {
                org.jboss.logging.Logger.getLogger(IpmiDriver.class).warnf("%s: FRU inventory: %s", bmc, f.problems());
            }
            return new Inventory(f.manufacturer(), f.model(), f.serialNumber(), List.of(), List.of(), List.of(), List.of());
        });
    }

    static final int NETFN_STORAGE = 0x0a;
    /** Bytes asked per Read FRU Data at first; BMCs that cannot return that many say so (0xC7, 0xC8, 0xCA) and are asked for fewer. */
    static final int FRU_CHUNK = 32;

    /**
     * Reads FRU device 0 (IPMI v2.0 §34: Get FRU Inventory Area Info, Read FRU Data): the common header, then
     * each area it names, not the whole device (which may be kilobytes of padding).
     */
    public Uni<Fru> fru(BmcEndpoint bmc) {
        return ok(bmc, NETFN_STORAGE, 0x10, new byte[] {0x00}, "Get FRU Inventory Area Info").chain(info -> {
            if (info.length < 3) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": Get FRU Inventory Area Info answered " + info.length + " bytes");
            }
            int size = (info[0] & 0xff) | (info[1] & 0xff) << 8;
            boolean words = (info[2] & 0x01) != 0;
            if (size < 8) {
                throw new DriverException(Kind.UNSUPPORTED, bmc + ": the BMC has no FRU inventory (size " + size + ")");
            }
            byte[] image = new byte[size];
            int[] chunk = {FRU_CHUNK};
            return readFru(bmc, image, 0, 8, words, chunk).chain(() -> {
                Fru.Header h;
                try {
                    h = Fru.header(java.util.Arrays.copyOf(image, 8));
                } catch (IllegalArgumentException e) {
                    return Uni.createFrom().item(Fru.parse(image));
                }
                Uni<Void> areas = Uni.createFrom().voidItem();
                for (int offset : new int[] {h.chassis(), h.board(), h.product()}) {
                    if (offset == 0 || offset + 2 > size) {
                        continue;
                    }
                    areas = areas.chain(() -> readFru(bmc, image, offset, 2, words, chunk))
                            .chain(() -> readFru(bmc, image, offset + 2, Math.min(size - offset, Fru.areaLength(
                                    new byte[] {image[offset], image[offset + 1]})) - 2, words, chunk));
                }
                return areas.map(v -> Fru.parse(image));
            });
        });
    }

    /** Reads {@code count} bytes of FRU device 0 from {@code offset} into {@code image}, in chunks the BMC can return. */
    private Uni<Void> readFru(BmcEndpoint bmc, byte[] image, int offset, int count, boolean words, int[] chunk) {
        if (count <= 0) {
            return Uni.createFrom().voidItem();
        }
        int ask = Math.min(count, chunk[0]);
        int unit = words ? 2 : 1;
        int at = offset / unit;
        byte[] req = {0x00, (byte) at, (byte) (at >> 8), (byte) Math.max(1, ask / unit)};
        return client.command(bmc, NETFN_STORAGE, 0x11, req, IpmiClient.USER).chain(r -> {
            int cc = r.completionCode();
            if ((cc == 0xc7 || cc == 0xc8 || cc == 0xca) && chunk[0] > 8) {
                chunk[0] /= 2; // the BMC cannot return so many at once
                return readFru(bmc, image, offset, count, words, chunk);
            }
            if (cc != 0) {
                throw new DriverException(cc == 0xc1 ? Kind.UNSUPPORTED : Kind.BMC_ERROR, bmc + ": Read FRU Data at " + offset + " failed: "
                        + CompletionCodes.describe(cc));
            }
            byte[] d = r.data();
            int got = d.length == 0 ? 0 : Math.min((d[0] & 0xff) * unit, d.length - 1);
            if (got == 0) {
                throw new DriverException(Kind.MALFORMED_RESPONSE, bmc + ": Read FRU Data at " + offset + " returned no bytes");
            }
            int n = Math.min(got, Math.min(count, image.length - offset));
            System.arraycopy(d, 1, image, offset, n);
            return readFru(bmc, image, offset + n, count - n, words, chunk);
        });
    }

    @Override
    public Uni<List<Interfaces.DiskErase>> secureErase(BmcEndpoint bmc) {
        return unsupported(bmc, "BMC-side erase; the erase agent must do it");
    }

    private static <T> Uni<T> unsupported(BmcEndpoint bmc, String what) {
        return Uni.createFrom().failure(new DriverException(Kind.UNSUPPORTED, bmc + ": IPMI offers no " + what));
    }

    /** The data of a command that completed normally; a clear error otherwise. */
    private Uni<byte[]> ok(BmcEndpoint bmc, int netFn, int cmd, byte[] data, String what) {
        return ok(bmc, netFn, cmd, data, what, IpmiClient.USER);
    }

    private Uni<byte[]> ok(BmcEndpoint bmc, int netFn, int cmd, byte[] data, String what, int atLeast) {
        return client.command(bmc, netFn, cmd, data, atLeast).map(r -> {
            int cc = r.completionCode();
            if (cc == 0) {
                return r.data();
            }
            Kind kind = cc == 0xd4 || cc == 0x80 || cc == 0x81 ? Kind.AUTHENTICATION : cc == 0xc1 ? Kind.UNSUPPORTED : Kind.BMC_ERROR;
            throw new DriverException(kind, bmc + ": " + what + " failed: " + CompletionCodes.describe(cc));
        });
    }
}
