package io.metalgate.conductor;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * What the printable page of an erase certificate shows, taken from the signed body only (never from the
 * unsigned columns beside it), as plain strings: the template ({@code templates/CertificateResource/certificate.html})
 * escapes them and does no formatting of its own.
 */
public record CertificatePage(String id, String issuedAt, String machineId, String manufacturer, String model, String serialNumber,
        List<Disk> disks, String requestedBy, List<String> approvedBy, String decisionSeq, String decidedBy, String decidedAt,
        String signingKey, String signature, String downloadCommand, String verifyCommand) {

    /** One disk as certified: NIST SP 800-88 method, IEEE 2883 technique, tool, read-back, times. */
    public record Disk(String serialNumber, String model, String capacity, String method, String technique, String techniqueId, String tool,
            String toolVersion, String verificationMethod, String sampled, String mismatches, String verified, String startedAt,
            String endedAt, String receivedAt, String result) {
    }

    static CertificatePage of(EraseReports.Certificate c) {
        JsonNode b = c.body();
        JsonNode m = b.path("machine");
        List<Disk> disks = new ArrayList<>();
        for (JsonNode d : b.path("disks")) {
            JsonNode v = d.path("verification");
            List<String> sampled = new ArrayList<>();
            if (v.hasNonNull("sampledBlocks")) {
                sampled.add(v.get("sampledBlocks").asText() + " random blocks");
            }
            if (v.path("firstAndLastMiB").asBoolean(false)) {
                sampled.add("first and last MiB");
            }
            if (v.path("partitionAreas").asBoolean(false)) {
                sampled.add("partition table areas");
            }
            disks.add(new Disk(text(d, "serialNumber"), text(d, "model"), capacity(d.path("capacityBytes")), text(d, "method"),
                    text(d, "technique"), text(d, "techniqueId"), text(d, "tool"), text(d, "toolVersion"), text(v, "method"),
                    sampled.isEmpty() ? "—" : String.join(", ", sampled), text(v, "mismatches"),
                    v.path("passed").asBoolean(false) ? "passed" : "NOT passed", text(d, "startedAt"), text(d, "endedAt"),
                    text(d, "receivedAt"), text(d, "result")));
        }
        JsonNode decision = b.path("decision");
        List<String> approvers = new ArrayList<>();
        decision.path("approvedBy").forEach(a -> approvers.add(a.asText()));
        String file = "erase-certificate-" + c.id() + ".json";
        return new CertificatePage(text(b, "id"), text(b, "issuedAt"), text(m, "id"), text(m, "manufacturer"), text(m, "model"),
                text(m, "serialNumber"), disks, text(decision, "requestedBy"), approvers, text(decision, "auditSeq"), text(decision, "decidedBy"),
                text(decision, "decidedAt"), text(b, "signingKey"), c.signature(),
                "curl -u USER -H 'Accept: application/json' -o " + file + " https://APPLIANCE/api/machines/" + c.machineId()
                        + "/erase-certificates/" + c.id(),
                "java -jar target/quarkus-app/quarkus-run.jar certificate verify " + file + " --key " + text(b, "signingKey"));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? "—" : v.asText();
    }

    /** Bytes as the drive makers count them (decimal), and exactly. */
    static String capacity(JsonNode bytes) {
        if (!bytes.canConvertToLong()) {
            return "—";
        }
        long n = bytes.asLong();
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
        double v = n;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(java.util.Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]) + " (" + n + " bytes)";
    }
}
