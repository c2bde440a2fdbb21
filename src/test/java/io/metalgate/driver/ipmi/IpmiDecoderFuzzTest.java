package io.metalgate.driver.ipmi;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.metalgate.ipmisim.SimBmc;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing (Jazzer) of everything that reads a datagram from the network: the client's
 * decoders and our simulated BMC. The only failure allowed is {@link IpmiCodec.IpmiCodecException} (the
 * datagram is dropped); anything else — an index out of bounds, an overflow, a hang — is a finding. Runs
 * for 30 s in its own JVM (surefire execution "fuzz"); its findings, if any, land in
 * src/test/resources/io/metalgate/driver/ipmi/IpmiDecoderFuzzTestInputs and are replayed by every later run.
 */
@Tag("fuzz")
class IpmiDecoderFuzzTest {

    private static final Rakp.SessionKeys KEYS = IpmiCodecTest.suite3Keys();
    private static final SimBmc BMC = new SimBmc(0, "admin", "secret", java.util.List.of(3, 17));

    @FuzzTest(maxDuration = "30s")
    void decodersOnlyEverRefuseWithAReason(FuzzedDataProvider data) {
        boolean withKeys = data.consumeBoolean();
        byte[] datagram = data.consumeRemainingAsBytes();
        try {
            IpmiCodec.Packet p = IpmiCodec.decode(datagram, withKeys ? KEYS : null);
            switch (p.payloadType()) {
                case IpmiCodec.PAYLOAD_OPEN_SESSION_RESPONSE -> IpmiCodec.openSessionResponse(p.payload());
                case IpmiCodec.PAYLOAD_RAKP2 -> IpmiCodec.rakp2(p.payload());
                case IpmiCodec.PAYLOAD_RAKP4 -> IpmiCodec.rakp4(p.payload());
                default -> IpmiCodec.response(p.payload());
            }
        } catch (IpmiCodec.IpmiCodecException expected) {
            // dropped with a reason: fine
        }
        BMC.handle(datagram); // must not throw, whatever arrives
        if (BMC.openSessions() > 64) {
            throw new IllegalStateException("the simulator holds " + BMC.openSessions() + " sessions");
        }
    }
}
