package io.metalgate.boot;

import java.util.Locale;
import java.util.Optional;

/**
 * The iPXE script a machine gets when it network-boots, from what it is: pure. An ERASING machine boots the
 * erase agent (kernel and initramfs over HTTP, its one-time token on the kernel command line); anything else,
 * and any MAC the appliance does not know, boots from its local disk ({@code exit} hands back to the firmware's
 * boot order, whose next entry is the disk).
 */
public final class BootScripts {

    private BootScripts() {
    }

    /** A MAC in the form iPXE's {@code ${net0/mac}} gives (lower case, colons); empty when it is not one. */
    public static Optional<String> mac(String given) {
        if (given == null) {
            return Optional.empty();
        }
        String m = given.strip().toLowerCase(Locale.ROOT).replace('-', ':');
        return m.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}") ? Optional.of(m) : Optional.empty();
    }

    public static String localDisk(String why) {
        return "#!ipxe\n"
                + "echo metalgate: " + sanitize(why) + ": booting from the local disk\n"
                + "exit\n";
    }

    /**
     * The erase agent's boot: {@code base} is the appliance as the machine reached it (http://host:port), the token
     * the one issued for this boot.
     */
    public static String eraseAgent(String base, String machineId, String mac, String token) {
        return "#!ipxe\n"
                + "echo metalgate: machine " + machineId + " is ERASING: booting the erase agent\n"
                + "kernel " + base + "/boot/agent/vmlinuz initrd=initrd.img console=tty0 console=ttyS0,115200 metalgate.url=" + base
                + " metalgate.mac=" + mac + " metalgate.token=" + token + "\n"
                + "initrd --name initrd.img " + base + "/boot/agent/initrd.img\n"
                + "boot || goto failed\n"
                + ":failed\n"
                + "echo metalgate: the erase agent did not boot; booting from the local disk\n"
                + "exit\n";
    }

    /** Text from the appliance put in a script: no line breaks or iPXE expansions. */
    private static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9 ._:/()-]", "_");
    }
}
