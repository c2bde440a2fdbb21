package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.metalgate.ipmisim.SimBmc;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/**
 * A whole RMCP+ session between our codec and our simulated BMC, without a network: the handshake for both
 * suites, then the BMC's sequence window — packets may arrive out of order within 32, each is taken once,
 * older or repeated ones are dropped unanswered and not executed.
 */
class SequenceWindowTest {

    static final int CONSOLE_SID = 0x0badcafe;
    final SecureRandom random = new SecureRandom();

    record Open(Rakp.SessionKeys keys, int bmcSid) {
    }

    Open handshake(SimBmc bmc, CipherSuite suite) {
        IpmiCodec.OpenSessionResponse osr = IpmiCodec.openSessionResponse(IpmiCodec.decode(bmc.handle(IpmiCodec.v20(
                IpmiCodec.PAYLOAD_OPEN_SESSION_REQUEST, 0, 0, IpmiCodec.openSessionRequest(1, 4, CONSOLE_SID, suite), null, null)), null).payload());
        assertEquals(0, osr.status());
        byte[] rm = new byte[16];
        random.nextBytes(rm);
        byte[] kuid = Rakp.userKey("pw");
        IpmiCodec.Rakp2 r2 = IpmiCodec.rakp2(IpmiCodec.decode(bmc.handle(IpmiCodec.v20(IpmiCodec.PAYLOAD_RAKP1, 0, 0,
                IpmiCodec.rakp1(2, osr.bmcSid(), rm, 0x14, "op"), null, null)), null).payload());
        assertArrayEquals(Rakp.rakp2Code(suite, kuid, CONSOLE_SID, osr.bmcSid(), rm, r2.bmcRandom(), r2.bmcGuid(), 0x14, "op"), r2.code());
        byte[] sik = Rakp.sik(suite, kuid, rm, r2.bmcRandom(), 0x14, "op");
        IpmiCodec.Rakp4 r4 = IpmiCodec.rakp4(IpmiCodec.decode(bmc.handle(IpmiCodec.v20(IpmiCodec.PAYLOAD_RAKP3, 0, 0,
                IpmiCodec.rakp3(2, 0, osr.bmcSid(), Rakp.rakp3Code(suite, kuid, r2.bmcRandom(), CONSOLE_SID, 0x14, "op")), null, null)), null)
                .payload());
        assertEquals(0, r4.status());
        assertArrayEquals(Rakp.rakp4Icv(suite, sik, rm, osr.bmcSid(), r2.bmcGuid()), r4.icv());
        return new Open(Rakp.keys(suite, sik), osr.bmcSid());
    }

    byte[] chassisOn(Open s, int seq) {
        return IpmiCodec.v20(IpmiCodec.PAYLOAD_IPMI, s.bmcSid(), seq, IpmiCodec.request(0x00, 0x02, seq & 0x3f, new byte[] {0x01}), s.keys(),
                () -> {
                    byte[] iv = new byte[16];
                    random.nextBytes(iv);
                    return iv;
                });
    }

    @Test
    void bothSuitesHandshakeAndTheWindowTakesEachPacketOnce() {
        for (CipherSuite suite : CipherSuite.values()) {
            SimBmc bmc = new SimBmc(1, "op", "pw", java.util.List.of(3, 17));
            Open s = handshake(bmc, suite);
            byte[] five = chassisOn(s, 5);
            byte[] answer = bmc.handle(five);
            assertNotNull(answer, suite + ": seq 5 taken");
            IpmiCodec.Response r = IpmiCodec.response(IpmiCodec.decode(answer, s.keys()).payload());
            assertEquals(0, r.completionCode());
            assertNull(bmc.handle(five), "the same packet again is a replay");
            assertNotNull(bmc.handle(chassisOn(s, 3)), "seq 3 after 5: out of order, inside the window, not yet seen");
            assertNull(bmc.handle(chassisOn(s, 3)), "seq 3 again");
            assertNotNull(bmc.handle(chassisOn(s, 100)));
            assertNull(bmc.handle(chassisOn(s, 60)), "40 behind the highest: outside the window");
            assertNotNull(bmc.handle(chassisOn(s, 99)));
            assertEquals(4, bmc.commands.get(), suite + ": only the accepted packets were executed");
            // a packet under another session's keys is not even read
            Open other = handshake(new SimBmc(2, "op", "pw", java.util.List.of(3, 17)), suite);
            assertNull(bmc.handle(chassisOn(new Open(other.keys(), s.bmcSid()), 101)));
        }
    }
}
