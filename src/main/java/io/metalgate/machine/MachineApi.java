package io.metalgate.machine;

import io.metalgate.common.Printable;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.time.Instant;
import java.util.UUID;

/** The machine API's request and response records. A BMC password goes in, never out. */
public final class MachineApi {

    static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,199}";
    static final String NAME_MESSAGE = "letters, digits, '.', '_' and '-', starting with a letter or digit (at most 200)";
    static final String HOST = "[A-Za-z0-9][A-Za-z0-9.:-]{0,253}|\\[[0-9A-Fa-f:.]+\\]";
    static final String HOST_MESSAGE = "a host name, IPv4 address or [IPv6] address";
    static final String FINGERPRINT = "([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}";
    static final String FINGERPRINT_MESSAGE = "a SHA-256 certificate fingerprint: 64 hex digits, colons allowed";

    private MachineApi() {
    }

    public record BmcSpec(
            @NotNull BmcProtocol protocol,
            @NotBlank @Pattern(regexp = HOST, message = HOST_MESSAGE) String host,
            @Min(value = 1, message = "must be between 1 and 65535") @Max(value = 65535, message = "must be between 1 and 65535") Integer port,
            @NotBlank @Size(max = 64) @Printable String username,
            @NotBlank @Size(max = 256) String password,
            @Pattern(regexp = FINGERPRINT, message = FINGERPRINT_MESSAGE) String tlsFingerprint,
            @Valid BmcOptions options) {

        @Override
        public String toString() {
            return "BmcSpec[" + protocol + "://" + username + "@" + host + ":" + port + "]"; // no password
        }
    }

    /**
     * What one machine's BMC needs unlike the others (Ironic's {@code driver_info}): {@code systemId}, which
     * system of a BMC that manages several (blades) this machine is — one machine per system;
     * {@code ipmiPrivilege}, the IPMI privilege to ask for (default: the lowest each command needs);
     * {@code resetTypes}, the BMC's own name for a power action when it offers no standard one
     * (e.g. {@code {"OFF": "PowerOffNonGraceful"}}).
     */
    public record BmcOptions(
            @Size(max = 100) @Pattern(regexp = SYSTEM_ID, message = SYSTEM_ID_MESSAGE) String systemId,
            IpmiPrivilege ipmiPrivilege,
            java.util.Map<PowerActionName, @NotBlank @Pattern(regexp = RESET_TYPE, message = RESET_TYPE_MESSAGE) String> resetTypes) {

        public static final BmcOptions NONE = new BmcOptions(null, null, null);

        public BmcOptions {
            resetTypes = resetTypes == null || resetTypes.isEmpty() ? null : new java.util.TreeMap<>(resetTypes);
        }

        @com.fasterxml.jackson.annotation.JsonIgnore
        public boolean isEmpty() {
            return systemId == null && ipmiPrivilege == null && resetTypes == null;
        }
    }

    static final String SYSTEM_ID = "[A-Za-z0-9][A-Za-z0-9._:-]{0,99}";
    static final String SYSTEM_ID_MESSAGE = "a Redfish system Id: letters, digits, '.', '_', ':' and '-'";
    static final String RESET_TYPE = "[A-Za-z][A-Za-z0-9._]{0,63}";
    static final String RESET_TYPE_MESSAGE = "a ResetType the BMC offers (letters, digits, '.', '_')";

    /** The IPMI privilege levels a machine may be configured to ask for. */
    public enum IpmiPrivilege {
        USER, OPERATOR, ADMINISTRATOR
    }

    /** The power actions a reset type can be named for. */
    public enum PowerActionName {
        ON, OFF, GRACEFUL_OFF, CYCLE, RESET
    }

    public record Enrollment(
            @NotNull @Pattern(regexp = NAME, message = NAME_MESSAGE) String name,
            @Size(max = 100) @Printable String rack,
            @Size(max = 200) @Printable String location,
            @NotNull @Valid BmcSpec bmc) {
    }

    /** A partial update: absent (null) fields stay as they are. */
    public record BmcPatch(
            BmcProtocol protocol,
            @Pattern(regexp = HOST, message = HOST_MESSAGE) String host,
            @Min(value = 1, message = "must be between 1 and 65535") @Max(value = 65535, message = "must be between 1 and 65535") Integer port,
            @Size(min = 1, max = 64) @Printable String username,
            @Size(min = 1, max = 256) String password,
            @Pattern(regexp = FINGERPRINT, message = FINGERPRINT_MESSAGE) String tlsFingerprint,
            @Valid BmcOptions options) {

        @Override
        public String toString() {
            return "BmcPatch[" + protocol + "://" + username + "@" + host + ":" + port + "]"; // no password
        }
    }

    /** A partial update: absent (null) fields stay as they are. */
    public record Update(
            @Pattern(regexp = NAME, message = NAME_MESSAGE) String name,
            @Size(max = 100) @Printable String rack,
            @Size(max = 200) @Printable String location,
            @Valid BmcPatch bmc,
            Boolean maintenance,
            @Size(max = 500) String maintenanceReason) {
    }

    public record BmcView(BmcProtocol protocol, String host, int port, String username, boolean passwordSet,
            String tlsFingerprint, BmcOptions options) {
    }

    /**
     * What the last power sync observed: {@code state} ON or OFF, or null with {@code error} saying why the
     * BMC did not answer; {@code drift}: on while the lifecycle says it must be off (an alarm).
     */
    public record PowerView(String state, Instant checkedAt, String error, boolean drift) {
    }

    public record MachineView(UUID id, String name, String rack, String location, BmcView bmc, LifecycleState state,
            boolean maintenance, String maintenanceReason, PowerView power, Instant inspectedAt, Instant createdAt, Instant updatedAt,
            long version) {

        static MachineView of(Machine m) {
            return new MachineView(m.id, m.name, m.rack, m.location,
                    new BmcView(m.bmcProtocol, m.bmcHost, m.bmcPort, m.bmcUsername, m.bmcSecret != null, m.bmcTlsFingerprint,
                            BmcOptionsJson.read(m.bmcOptions)),
                    m.lifecycleState, m.maintenance, m.maintenanceReason,
                    m.powerCheckedAt == null ? null : new PowerView(m.powerState, m.powerCheckedAt, m.powerError, Boolean.TRUE.equals(m.powerDrift)),
                    m.inspectedAt, m.createdAt, m.updatedAt, m.version);
        }
    }

    /** Normalises a fingerprint to lower-case hex without colons. */
    static String normaliseFingerprint(String fp) {
        return fp == null ? null : fp.replace(":", "").toLowerCase(java.util.Locale.ROOT);
    }
}
