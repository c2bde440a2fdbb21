package io.metalgate.driver.ipmi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Byte-exact vectors from a real exchange: ipmitool 1.8.19 ({@code -I lanplus -C 3 -vvvvv power status})
 * against OpenIPMI's ipmi_sim, whose full dump is committed as
 * src/test/resources/ipmi/ipmitool-C3-ipmi_sim-power-status.txt. Every packet below was on the wire.
 */
class IpmiCodecTest {

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    static final int CONSOLE_SID = 0xa0a2a3a4;
    static final int BMC_SID = 0x00000484;
    static final byte[] RM = hex("7e 31 2a cc c5 92 51 e0 a7 17 bb c3 b7 ba 86 e0");
    static final byte[] KUID = Rakp.userKey("secret");
    static final int ROLE = 0x14; // administrator, name-only lookup

    @Test
    void getChannelAuthenticationCapabilitiesBeforeASession() {
        // the vector the issue quotes
        assertArrayEquals(hex("06 00 ff 07 00 00 00 00 00 00 00 00 00 09 20 18 c8 81 00 38 8e 04 b5"),
                IpmiCodec.v15(IpmiCodec.request(0x06, 0x38, 0, new byte[] {(byte) 0x8e, 0x04})));
        IpmiCodec.Packet p = IpmiCodec.decode(hex("06 00 ff 07 00 00 00 00 00 00 00 00 00 10 81 1c 63 20 00 38 00 01 97 04 03 00 00 00 00 09"),
                null);
        IpmiCodec.Response r = IpmiCodec.response(p.payload());
        assertEquals(0x07, r.netFn());
        assertEquals(0x38, r.cmd());
        assertEquals(0, r.completionCode());
        assertArrayEquals(hex("01 97 04 03 00 00 00 00"), r.data()); // bit 7 of byte 2: IPMI v2.0 extended capabilities
    }

    @Test
    void openSessionAndTheFourRakpMessages() {
        assertArrayEquals(hex("06 00 ff 07 06 10 00 00 00 00 00 00 00 00 20 00 00 00 00 00 a4 a3 a2 a0 00 00 00 08 01 00 00 00"
                + "01 00 00 08 01 00 00 00 02 00 00 08 01 00 00 00"),
                IpmiCodec.v20(IpmiCodec.PAYLOAD_OPEN_SESSION_REQUEST, 0, 0, IpmiCodec.openSessionRequest(0, 0, CONSOLE_SID, CipherSuite.SUITE_3),
                        null, null));
        IpmiCodec.Packet open = IpmiCodec.decode(hex("06 00 ff 07 06 11 00 00 00 00 00 00 00 00 24 00 00 00 00 00 a4 a3 a2 a0 84 04 00 00"
                + "00 00 00 08 01 00 00 00 01 00 00 08 01 00 00 00 02 00 00 08 01 00 00 00"), null);
        assertEquals(IpmiCodec.PAYLOAD_OPEN_SESSION_RESPONSE, open.payloadType());
        IpmiCodec.OpenSessionResponse osr = IpmiCodec.openSessionResponse(open.payload());
        assertEquals(new IpmiCodec.OpenSessionResponse(0, 0, 0, CONSOLE_SID, BMC_SID, 1, 1, 1), osr);
        assertEquals(CipherSuite.SUITE_3, CipherSuite.byAlgorithms(osr.authAlg(), osr.integrityAlg(), osr.confAlg()).orElseThrow());

        assertArrayEquals(hex("06 00 ff 07 06 12 00 00 00 00 00 00 00 00 21 00 00 00 00 00 84 04 00 00 7e 31 2a cc c5 92 51 e0"
                + "a7 17 bb c3 b7 ba 86 e0 14 00 00 05 61 64 6d 69 6e"),
                IpmiCodec.v20(IpmiCodec.PAYLOAD_RAKP1, 0, 0, IpmiCodec.rakp1(0, BMC_SID, RM, ROLE, "admin"), null, null));

        IpmiCodec.Rakp2 r2 = IpmiCodec.rakp2(IpmiCodec.decode(hex("06 00 ff 07 06 13 00 00 00 00 00 00 00 00 3c 00 00 00 00 00 a4 a3 a2 a0"
                + "fe 13 e1 fa 13 c0 f7 f5 02 4d 0e 2f ff f2 43 1d a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef"
                + "ef 12 be ef c8 f5 c4 81 73 88 ce a8 82 f0 f1 45 ec b0 67 44"), null).payload());
        assertEquals(0, r2.status());
        assertArrayEquals(r2.code(), Rakp.rakp2Code(CipherSuite.SUITE_3, KUID, CONSOLE_SID, BMC_SID, RM, r2.bmcRandom(), r2.bmcGuid(), ROLE,
                "admin"), "the BMC proved it knows the password");

        byte[] rakp3 = Rakp.rakp3Code(CipherSuite.SUITE_3, KUID, r2.bmcRandom(), CONSOLE_SID, ROLE, "admin");
        assertArrayEquals(hex("06 00 ff 07 06 14 00 00 00 00 00 00 00 00 1c 00 00 00 00 00 84 04 00 00 b5 24 8d ae df 0f 91 3b"
                + "7c d0 c4 3a 04 34 9b 60 20 f6 9d d7"), IpmiCodec.v20(IpmiCodec.PAYLOAD_RAKP3, 0, 0, IpmiCodec.rakp3(0, 0, BMC_SID, rakp3),
                        null, null));

        byte[] sik = Rakp.sik(CipherSuite.SUITE_3, KUID, RM, r2.bmcRandom(), ROLE, "admin");
        assertArrayEquals(hex("ff 0c f5 e7 4b e3 d1 25 7b 92 82 c9 36 ed dc 0d c6 89 08 6e"), sik);
        Rakp.SessionKeys keys = Rakp.keys(CipherSuite.SUITE_3, sik);
        assertArrayEquals(hex("05 26 33 d2 f1 20 02 44 4b 28 d7 59 bd 36 6d f9 73 33 d0 80"), keys.k1());
        assertArrayEquals(hex("c9 eb ac 72 fd 5f 2c c0 ae 2f a0 58 7c ba a4 0e d7 90 83 f4"), keys.k2());

        IpmiCodec.Rakp4 r4 = IpmiCodec.rakp4(IpmiCodec.decode(hex("06 00 ff 07 06 15 00 00 00 00 00 00 00 00 14 00 00 00 00 00 a4 a3 a2 a0"
                + "1f 5f a8 10 9c 93 12 62 fa 26 b7 96"), null).payload());
        assertArrayEquals(r4.icv(), Rakp.rakp4Icv(CipherSuite.SUITE_3, sik, RM, BMC_SID, r2.bmcGuid()));
    }

    static Rakp.SessionKeys suite3Keys() {
        return Rakp.keys(CipherSuite.SUITE_3, hex("ff 0c f5 e7 4b e3 d1 25 7b 92 82 c9 36 ed dc 0d c6 89 08 6e"));
    }

    static final String SET_PRIVILEGE_REQUEST = "06 00 ff 07 06 c0 84 04 00 00 03 00 00 00 20 00 7a b9 a9 e7 ec 29 3b 7c 5d b6 51 d6 9f 28 0a a8"
            + "df 6c 4e aa e5 21 09 a5 4b 48 2c 59 55 97 9e 96 ff ff 02 07 69 7b 69 1c 39 63 c7 f3 c0 78 eb 87";
    static final String SET_PRIVILEGE_RESPONSE = "06 00 ff 07 06 c0 a4 a3 a2 a0 01 00 00 00 20 00 ef 29 a5 34 cb 92 c5 12 12 47 f2 ae a7 b0 e6 90"
            + "63 1d 29 37 64 c2 13 0b a0 0e ee 13 1f 0f fd 18 ff ff 02 07 be 4f 85 d6 7d 97 8a f0 1f 88 64 1f";

    @Test
    void anEncryptedAuthenticatedCommandAndItsResponse() {
        byte[] iv = hex("7a b9 a9 e7 ec 29 3b 7c 5d b6 51 d6 9f 28 0a a8");
        byte[] setPrivilege = IpmiCodec.request(0x06, 0x3b, 1, new byte[] {0x04});
        assertArrayEquals(hex("20 18 c8 81 04 3b 04 3c"), setPrivilege);
        assertArrayEquals(hex(SET_PRIVILEGE_REQUEST), IpmiCodec.v20(IpmiCodec.PAYLOAD_IPMI, BMC_SID, 3, setPrivilege, suite3Keys(), () -> iv));

        IpmiCodec.Packet p = IpmiCodec.decode(hex(SET_PRIVILEGE_RESPONSE), suite3Keys());
        assertEquals(CONSOLE_SID, p.sessionId());
        assertEquals(1, p.sequence());
        assertTrue(p.encrypted() && p.authenticated());
        IpmiCodec.Response r = IpmiCodec.response(p.payload());
        assertEquals(new IpmiCodec.Response(0x07, 0x3b, 1, 0, new byte[] {0x04}).toString().replaceAll("\\[B@\\w+", ""),
                r.toString().replaceAll("\\[B@\\w+", ""));
        assertArrayEquals(new byte[] {0x04}, r.data());
    }

    @Test
    void aForgedTamperedOrTruncatedPacketIsRefusedWithAReason() {
        byte[] good = hex(SET_PRIVILEGE_RESPONSE);
        byte[] flipped = good.clone();
        flipped[20] ^= 1; // one bit of the ciphertext
        assertTrue(assertThrows(IpmiCodec.IpmiCodecException.class, () -> IpmiCodec.decode(flipped, suite3Keys())).getMessage()
                .contains("AuthCode"));
        Rakp.SessionKeys other = Rakp.keys(CipherSuite.SUITE_3, new byte[20]);
        assertThrows(IpmiCodec.IpmiCodecException.class, () -> IpmiCodec.decode(good, other));
        for (int n = 0; n < good.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(good, n);
            assertThrows(IpmiCodec.IpmiCodecException.class, () -> IpmiCodec.decode(cut, suite3Keys()), "truncated to " + n);
        }
        // an unauthenticated IPMI packet inside a session is refused, not read
        byte[] clear = IpmiCodec.v20(IpmiCodec.PAYLOAD_IPMI, CONSOLE_SID, 9, IpmiCodec.request(0x06, 0x01, 1, new byte[0]), null, null);
        assertThrows(IpmiCodec.IpmiCodecException.class, () -> IpmiCodec.decode(clear, suite3Keys()));
        // a bad checksum in the message
        byte[] msg = hex("81 1c 63 20 04 3b 00 04 9e");
        assertThrows(IpmiCodec.IpmiCodecException.class, () -> IpmiCodec.response(msg));
    }

    @Test
    void suite17DerivesK1AndK2FromTwentyByteConstantsAsIpmitoolDoes() {
        // from ipmitool -C 17 -vvvvv against our simulator: its SIK, K1 and K2
        byte[] sik = hex("69 3c 34 42 60 88 60 4f a7 62 ad 18 b2 64 c6 96 27 8a 62 ff de 9f 35 f7 b1 34 68 56 3f 89 aa 08");
        Rakp.SessionKeys k = Rakp.keys(CipherSuite.SUITE_17, sik);
        assertArrayEquals(hex("31 3a 52 07 65 7d 55 8b 4a c4 7d aa 97 bc 5f b0 02 a7 37 ee 19 54 31 ef a9 d6 32 c1 8a b1 ec f6"), k.k1());
        assertArrayEquals(hex("16 41 3a 3a e1 24 a4 5a d2 c3 01 73 4f de 5c 2a 93 dc 51 a9 27 6c fb 02 9f 90 07 e1 35 85 f8 77"), k.k2());
    }

    @Test
    void suite17KeysAreSha256AndItsIntegrityCheckSixteenBytes() {
        byte[] sik = Rakp.sik(CipherSuite.SUITE_17, KUID, RM, new byte[16], ROLE, "admin");
        assertEquals(32, sik.length);
        Rakp.SessionKeys k = Rakp.keys(CipherSuite.SUITE_17, sik);
        assertEquals(32, k.k1().length);
        byte[] packet = IpmiCodec.v20(IpmiCodec.PAYLOAD_IPMI, 7, 1, IpmiCodec.request(0x00, 0x01, 1, new byte[0]), k, () -> new byte[16]);
        // 16 RMCP+session header, 32 IV + one block, 2 pad, pad length, next header, 16 AuthCode
        assertEquals(4 + 12 + 32 + 2 + 2 + 16, packet.length);
        assertArrayEquals(IpmiCodec.request(0x00, 0x01, 1, new byte[0]), IpmiCodec.decode(packet, k).payload());
    }
}
