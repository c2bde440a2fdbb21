package io.metalgate.erase;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an NVMe technique reaches on a controller with more than one namespace, or with capacity no namespace holds. A
 * sanitize acts on the whole NVM subsystem (every namespace, allocated or not, and the unallocated capacity); a Format,
 * an overwrite or a discard through {@code /dev/nvmeXnY} acts on one namespace only. So a namespace-scoped technique is
 * used only where the controller holds exactly one namespace and no unallocated capacity; otherwise the disk fails,
 * naming what would be left. Read from {@code nvme list-ns} (allocated namespaces: {@code [   0]:0x1} a line) and
 * {@code nvme id-ctrl} ({@code unvmcap}, bytes not allocated to any namespace). A pure function.
 */
public final class NvmeNamespaces {

    private static final Pattern NAMESPACE = Pattern.compile("(?m)^\\s*\\[\\s*\\d+\\]\\s*:\\s*0x([0-9a-fA-F]+)\\s*$");
    private static final Pattern UNVMCAP = Pattern.compile("(?m)^unvmcap\\s*:\\s*(\\d+)");

    /** The technique may be used ({@code refusal} empty), with what the certificate should say. */
    public record Check(Optional<String> refusal, List<String> notes) {
    }

    private NvmeNamespaces() {
    }

    /** The namespace ids {@code nvme list-ns} printed (empty: it printed none, or nothing readable). */
    public static List<Long> namespaces(String listNs) {
        List<Long> out = new ArrayList<>();
        if (listNs != null) {
            Matcher m = NAMESPACE.matcher(listNs);
            while (m.find()) {
                out.add(Long.parseLong(m.group(1), 16));
            }
        }
        return out;
    }

    /** Bytes of NVM capacity no namespace holds, or null when id-ctrl does not say. */
    public static Long unallocated(String idCtrl) {
        if (idCtrl == null) {
            return null;
        }
        Matcher m = UNVMCAP.matcher(idCtrl);
        return m.find() ? Long.valueOf(m.group(1)) : null;
    }

    public static Check check(Techniques.Technique technique, String idCtrl, String listNs) {
        List<String> notes = new ArrayList<>();
        List<Long> namespaces = namespaces(listNs);
        Long unallocated = unallocated(idCtrl);
        boolean controllerWide = technique == Techniques.Technique.NVME_SANITIZE_CRYPTO || technique == Techniques.Technique.NVME_SANITIZE_BLOCK
                || technique == Techniques.Technique.NVME_SANITIZE_OVERWRITE;
        if (controllerWide) {
            notes.add("sanitize acts on the whole controller: " + (namespaces.isEmpty() ? "every namespace" : namespaces.size() + " namespace(s)")
                    + " and any unallocated capacity");
            return new Check(Optional.empty(), notes);
        }
        if (namespaces.isEmpty()) {
            notes.add("namespaces not determined (nvme list-ns printed none): " + technique + " acts on this namespace only");
            return new Check(Optional.empty(), notes);
        }
        List<String> left = new ArrayList<>();
        if (namespaces.size() > 1) {
            left.add((namespaces.size() - 1) + " other namespace(s) (ids " + namespaces + ")");
        }
        if (unallocated != null && unallocated > 0) {
            left.add(unallocated + " bytes of unallocated capacity");
        }
        if (!left.isEmpty()) {
            return new Check(Optional.of(technique + " acts on one namespace and would leave " + String.join(" and ", left)
                    + " untouched: this controller needs a sanitize (none is offered), or its namespaces deleted by hand"), notes);
        }
        notes.add("one namespace (id " + namespaces.get(0) + "), no unallocated capacity: " + technique + " reaches the whole drive");
        return new Check(Optional.empty(), notes);
    }
}
