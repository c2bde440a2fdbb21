package io.metalgate.driver.redfish;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * Which BMC family a service root belongs to, detected from {@code Vendor}, its {@code Oem} keys or
 * {@code Product} (older firmware has no Vendor property). The quirks each family needs are handled in
 * {@link RedfishDriver} and listed, with their public sources, in docs/bmc-quirks.md.
 */
public enum VendorProfile {
    GENERIC, IDRAC, ILO, SUPERMICRO, XCC;

    public static VendorProfile detect(JsonObject root) {
        String vendor = root.getString("Vendor", "").toLowerCase(Locale.ROOT);
        JsonObject oem = root.getJsonObject("Oem", new JsonObject());
        String product = root.getString("Product", "").toLowerCase(Locale.ROOT);
        if (vendor.contains("dell") || oem.containsKey("Dell") || product.contains("idrac")) {
            return IDRAC;
        }
        if (vendor.equals("hpe") || vendor.equals("hp") || oem.containsKey("Hpe") || oem.containsKey("Hp") || product.contains("proliant")) {
            return ILO;
        }
        if (vendor.contains("supermicro") || oem.containsKey("Supermicro")) {
            return SUPERMICRO;
        }
        if (vendor.contains("lenovo") || oem.containsKey("Lenovo") || product.contains("xclarity")) {
            return XCC;
        }
        return GENERIC;
    }
}
