package io.metalgate.driver.ipmi;

/** RMCP+ and RAKP message status codes (IPMI v2.0 table 13-15), in words an operator can act on. */
final class RakpStatus {

    private RakpStatus() {
    }

    static String describe(int status) {
        return switch (status) {
            case 0x01 -> "the BMC has no room for another session (insufficient resources)";
            case 0x02 -> "invalid session id";
            case 0x03 -> "invalid payload type";
            case 0x04 -> "authentication algorithm not supported";
            case 0x05 -> "integrity algorithm not supported";
            case 0x06 -> "no matching authentication payload";
            case 0x07 -> "no matching integrity payload";
            case 0x08 -> "inactive session id";
            case 0x09 -> "invalid role";
            case 0x0a -> "the user may not have the privilege level asked for (insufficient privilege)";
            case 0x0b -> "the BMC has no room for a session at this privilege level";
            case 0x0c -> "invalid user name length";
            case 0x0d -> "unknown user name";
            case 0x0e -> "unauthorized GUID";
            case 0x0f -> "wrong password (the BMC rejected the integrity check value)";
            case 0x10 -> "confidentiality algorithm not supported";
            case 0x11 -> "no cipher suite matches the proposed algorithms";
            case 0x12 -> "illegal or unrecognised parameter";
            default -> String.format("RAKP status 0x%02x", status);
        };
    }
}
