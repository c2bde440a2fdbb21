package io.metalgate.evidence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.DoubleNode;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 8785 vectors (sections 3.2.2, 3.2.3 and appendix B) and round-trip properties. */
class CanonicalJsonTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void rfc8785Section322Example() throws Exception {
        String input = "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
                + "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
                + "  \"literals\": [null, true, false]\n}";
        String expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                + "\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assertEquals(expected, CanonicalJson.write(MAPPER.readTree(input)));
    }

    @Test
    void rfc8785Section323SortsByUtf16CodeUnits() throws Exception {
        String input = "{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\","
                + " \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\","
                + " \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}";
        var node = MAPPER.readTree(CanonicalJson.write(MAPPER.readTree(input)));
        StringBuilder order = new StringBuilder();
        node.fields().forEachRemaining(e -> order.append(e.getValue().asText()).append('|'));
        assertEquals("Carriage Return|One|Control|Latin Small Letter O With Diaeresis|Euro Sign|Emoji: Grinning Face|"
                + "Hebrew Letter Dalet With Dagesh|", order.toString());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            // RFC 8785 appendix B: IEEE 754 bit patterns and their ECMAScript form
            "0000000000000000, 0", "8000000000000000, 0", "0000000000000001, 5e-324", "8000000000000001, -5e-324",
            "7fefffffffffffff, 1.7976931348623157e+308", "ffefffffffffffff, -1.7976931348623157e+308",
            "4340000000000000, 9007199254740992", "c340000000000000, -9007199254740992", "4430000000000000, 295147905179352830000",
            "44b52d02c7e14af5, 9.999999999999997e+22", "44b52d02c7e14af6, 1e+23", "44b52d02c7e14af7, 1.0000000000000001e+23",
            "444b1ae4d6e2ef4e, 999999999999999700000", "444b1ae4d6e2ef4f, 999999999999999900000", "444b1ae4d6e2ef50, 1e+21",
            "3eb0c6f7a0b5ed8c, 9.999999999999997e-7", "3eb0c6f7a0b5ed8d, 0.000001", "41b3de4355555553, 333333333.3333332",
            "41b3de4355555554, 333333333.33333325", "41b3de4355555555, 333333333.3333333", "41b3de4355555556, 333333333.3333334",
            "41b3de4355555557, 333333333.33333343", "becbf647612f3696, -0.0000033333333333333333", "43143ff3c1cb0959, 1424953923781206.2" })
    void numbersAreWrittenAsEcmaScriptDoes(String bits, String expected) {
        double d = Double.longBitsToDouble(HexFormat.fromHexDigitsToLong(bits));
        assertEquals(expected, CanonicalJson.write(DoubleNode.valueOf(d)));
    }

    /** Randomised round trip (seeded, so a failure is reproducible): canonical form is a fixed point. */
    @Test
    void canonicalFormIsAFixedPoint() throws Exception {
        java.util.Random random = new java.util.Random(8785);
        for (int i = 0; i < 2000; i++) {
            double d = Double.longBitsToDouble(random.nextLong());
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                continue;
            }
            StringBuilder s = new StringBuilder();
            for (int k = random.nextInt(12); k > 0; k--) {
                s.append((char) random.nextInt(i % 2 == 0 ? 0x80 : 0xD800)); // controls, quotes, non-ASCII
            }
            var node = MAPPER.createObjectNode().put("s", s.toString()).put("d", d).put("n", random.nextLong() % 9007199254740991L);
            node.putArray("a").add(s.toString()).add(d);
            node.putObject("k" + s).put("z", 1);
            String once = CanonicalJson.write(node);
            assertEquals(once, CanonicalJson.write(MAPPER.readTree(once)), "round trip of " + once);
            assertEquals(d == 0 ? 0.0 : d, MAPPER.readTree(once).get("d").doubleValue());
        }
    }
}
