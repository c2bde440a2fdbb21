package io.metalgate.driver.ipmi;

/** IPMI completion codes (IPMI v2.0 table 5-2), in words. */
public final class CompletionCodes {

    private CompletionCodes() {
    }

    public static String describe(int cc) {
        String text = switch (cc) {
            case 0x00 -> "ok";
            case 0x80, 0x81 -> "privilege level not available to this user";
            case 0xc0 -> "node busy";
            case 0xc1 -> "command not supported";
            case 0xc2 -> "command not supported for this LUN";
            case 0xc3 -> "timeout while processing";
            case 0xc4 -> "out of space";
            case 0xc5 -> "reservation cancelled";
            case 0xc6 -> "request data truncated";
            case 0xc7 -> "request data length invalid";
            case 0xc8 -> "request data field length limit exceeded";
            case 0xc9 -> "parameter out of range";
            case 0xca -> "cannot return the number of bytes requested";
            case 0xcb -> "requested sensor, data or record not present";
            case 0xcc -> "invalid data field in request";
            case 0xcd -> "command illegal for this sensor or record type";
            case 0xce -> "command response could not be provided";
            case 0xcf -> "duplicated request";
            case 0xd0 -> "SDR repository in update mode";
            case 0xd1 -> "device in firmware update mode";
            case 0xd2 -> "BMC initialisation in progress";
            case 0xd3 -> "destination unavailable";
            case 0xd4 -> "insufficient privilege level";
            case 0xd5 -> "not supported in the present state";
            case 0xd6 -> "parameter is illegal because a sub-function is disabled";
            case 0xff -> "unspecified error";
            default -> "unknown";
        };
        return String.format("completion code 0x%02x (%s)", cc, text);
    }
}
