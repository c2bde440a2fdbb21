package io.metalgate.boot;

import java.util.List;
import java.util.Locale;

/**
 * dnsmasq's configuration for network boot, from the appliance's settings: pure (text out). dnsmasq does DHCP
 * only (no DNS, no TFTP: the appliance serves TFTP and HTTP itself). The firmware's PXE client is given the iPXE
 * binary for its architecture over TFTP; iPXE, which says so in DHCP (user class "iPXE", option 175), is given the
 * appliance's per-machine script URL. Two setups (docs/network-boot.md): FULL, the DHCP server of a provisioning
 * network; PROXY, proxy-DHCP beside an existing DHCP server that keeps handing out addresses.
 */
public final class DnsmasqConfig {

    public enum Mode {
        FULL, PROXY
    }

    /**
     * @param iface     the interface dnsmasq answers on
     * @param range     FULL: "first,last[,lease]" addresses handed out; PROXY: the subnet's network address
     * @param appliance the appliance's address as machines reach it (TFTP and HTTP)
     * @param httpPort  the appliance's HTTP port
     */
    public record Settings(Mode mode, String iface, String range, String appliance, int httpPort) {

        public Settings {
            for (String s : List.of(iface, range, appliance)) {
                if (s == null || s.isBlank() || !s.matches("[A-Za-z0-9.:,_-]+")) {
                    throw new IllegalArgumentException("not a dnsmasq value: " + s);
                }
            }
        }
    }

    /** A known machine's MAC (and name), for the host file. */
    public record Host(String mac, String name) {
    }

    private DnsmasqConfig() {
    }

    public static String config(Settings s, String hostsFile, String leaseFile) {
        String script = "http://" + s.appliance() + ":" + s.httpPort() + "/boot/ipxe?mac=${net0/mac}";
        StringBuilder c = new StringBuilder();
        c.append("# written by metalgate; do not edit (metalgate.boot.dnsmasq.*)\n");
        c.append("port=0\n"); // DHCP only: no DNS
        c.append("interface=").append(s.iface()).append("\nbind-interfaces\n");
        c.append("log-dhcp\n");
        c.append("dhcp-leasefile=").append(leaseFile).append('\n');
        c.append("dhcp-hostsfile=").append(hostsFile).append('\n');
        c.append("dhcp-userclass=set:ipxe,iPXE\n");
        c.append("dhcp-match=set:ipxe,175\n");
        c.append("dhcp-vendorclass=set:efi64,PXEClient:Arch:00007\n");
        c.append("dhcp-vendorclass=set:efi64,PXEClient:Arch:00009\n");
        if (s.mode() == Mode.FULL) {
            c.append("dhcp-range=").append(s.range().contains(",") ? s.range() : s.range() + ",12h").append('\n');
            c.append("dhcp-authoritative\n");
            // router advertisements (no addresses) for the prefixes the interface has: iPXE configures IPv6 beside
            // DHCPv4 and waits ~13 s for an advertisement that never comes on a network without one
            c.append("enable-ra\n");
            c.append("dhcp-range=::,constructor:").append(s.iface()).append(",ra-only\n");
            // the firmware's PXE client: iPXE for its architecture, from the appliance's TFTP server
            c.append("dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,").append(s.appliance()).append('\n');
            c.append("dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi,,").append(s.appliance()).append('\n');
        } else {
            c.append("dhcp-range=").append(s.range()).append(",proxy\n");
            c.append("pxe-prompt=\"metalgate\",0\n");
            // dnsmasq asks for "<name>.0" for x86PC: the TFTP server answers undionly.kpxe.0 with undionly.kpxe
            c.append("pxe-service=tag:!ipxe,x86PC,\"metalgate\",undionly.kpxe,").append(s.appliance()).append('\n');
            c.append("pxe-service=tag:!ipxe,X86-64_EFI,\"metalgate\",snponly.efi,").append(s.appliance()).append('\n');
        }
        // iPXE: the machine's script from the appliance
        c.append("dhcp-boot=tag:ipxe,").append(script).append('\n');
        return c.toString();
    }

    /** dnsmasq's host file ({@code dhcp-hostsfile}, re-read on SIGHUP): one known machine a line. */
    public static String hosts(List<Host> hosts) {
        StringBuilder b = new StringBuilder();
        for (Host h : hosts) {
            var mac = BootScripts.mac(h.mac());
            if (mac.isEmpty()) {
                continue;
            }
            String name = h.name() == null ? "" : h.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
            b.append(mac.get()).append(",set:metalgate").append(name.isEmpty() ? "" : "," + name).append('\n');
        }
        return b.toString();
    }
}
