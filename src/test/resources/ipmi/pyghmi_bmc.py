#!/usr/bin/python3
"""A second, independent IPMI 2.0 BMC for interop tests: pyghmi's Bmc (Debian python3-pyghmi).

usage: pyghmi_bmc.py PORT USER PASSWORD STATEFILE
Keeps power and boot device in memory and writes them to STATEFILE ("power=on boot=network") on each change.
"""
import sys

import pyghmi.ipmi.bmc as bmc

port, user, password, statefile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class TestBmc(bmc.Bmc):
    def __init__(self):
        super().__init__({user: password}, port=port)
        self.power = 'off'
        self.boot = 'default'
        self.save()

    def save(self):
        with open(statefile, 'w') as f:
            f.write('power=%s boot=%s\n' % (self.power, self.boot))

    def get_power_state(self):
        return self.power

    def power_on(self):
        self.power = 'on'
        self.save()

    def power_off(self):
        self.power = 'off'
        self.save()

    def power_shutdown(self):
        self.power_off()

    def power_cycle(self):
        self.power = 'on'
        self.save()

    def power_reset(self):
        self.power = 'on'
        self.save()

    def get_boot_device(self):
        return self.boot

    def set_boot_device(self, bootdevice):
        self.boot = bootdevice
        self.save()


TestBmc()
print('ready', flush=True)
bmc.Bmc.listen(timeout=30)
