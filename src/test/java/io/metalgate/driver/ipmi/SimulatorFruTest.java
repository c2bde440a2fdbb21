package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.ipmisim.SimBmc;
import org.junit.jupiter.api.Test;

/** The IPMI simulator's default FRU image (run-ipmi --fru true, the demo lab) reads back as written. */
class SimulatorFruTest {

    @Test
    void theSimulatorsProductAreaParses() {
        Fru fru = Fru.parse(SimBmc.productFru("Supermicro", "SYS-1029P-WTR", "X11DDW-L", "S000100007"));
        assertTrue(fru.problems().isEmpty(), fru.problems().toString());
        assertEquals("Supermicro", fru.manufacturer());
        assertEquals("SYS-1029P-WTR", fru.model());
        assertEquals("S000100007", fru.serialNumber());
    }
}
