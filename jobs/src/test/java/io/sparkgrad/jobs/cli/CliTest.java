package io.sparkgrad.jobs.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The argument parser: both option forms, typed values with defaults, and errors that name the option. */
class CliTest {
    private static Cli cli() {
        return new Cli("t", "test").option("epochs", "N", "10", "epochs").option("lr", "X", "0.1", "rate")
                .option("name", "S", "", "a name").required("input", "PATH", "data").flag("resume", "go on")
                .option("sizes", "N,N", "4,5", "sizes");
    }

    @Test
    void parsesBothFormsAndTypedValues() {
        Cli.Args a = cli().parse(new String[] {"--input", "x", "--epochs=3", "--lr", "-0.5", "--resume", "--sizes",
                "7, 8"});
        assertEquals("x", a.require("input"));
        assertEquals(3, a.intValue("epochs", 1, 100));
        assertEquals(-0.5, a.doubleValue("lr", -1, 1, false));
        assertTrue(a.flag("resume"));
        assertArrayEquals(new int[] {7, 8}, a.intList("sizes", 1, 10));
        assertEquals(null, a.string("name"));
        assertFalse(a.given("name"));
        Cli.Args d = cli().parse(new String[] {"--input", "y"});
        assertEquals(10, d.intValue("epochs", 1, 100));
        assertArrayEquals(new int[] {4, 5}, d.intList("sizes", 1, 10));
        assertFalse(d.flag("resume"));
    }

    @Test
    void errorsNameTheOptionAndWhatWasExpected() {
        assertEquals("--input is required: data", error());
        assertEquals("unknown option --epoch (did you mean --epochs?); see t --help", error("--input", "x", "--epoch", "2"));
        assertEquals("unexpected argument 'x': options start with --; see t --help", error("x"));
        assertEquals("--epochs: expected a value (N)", error("--input", "x", "--epochs"));
        assertEquals("--epochs: expected a value (N)", error("--input", "x", "--epochs", "--resume"));
        assertEquals("--resume takes no value, got 'yes'", error("--input", "x", "--resume=yes"));
        assertEquals("--input is given twice", error("--input", "x", "--input", "y"));
        Cli.Args a = cli().parse(new String[] {"--input", "x", "--epochs", "ten", "--lr", "NaN", "--sizes", "3,0"});
        assertEquals("--epochs: expected an integer in [1, 100], got 'ten'",
                assertThrows(UsageException.class, () -> a.intValue("epochs", 1, 100)).getMessage());
        assertEquals("--lr: expected a number in [0, 1], got 'NaN'",
                assertThrows(UsageException.class, () -> a.doubleValue("lr", 0, 1, false)).getMessage());
        assertEquals("--sizes: every entry must be an integer in [1, 10], got 0",
                assertThrows(UsageException.class, () -> a.intList("sizes", 1, 10)).getMessage());
    }

    private static String error(String... args) {
        return assertThrows(UsageException.class, () -> cli().parse(args)).getMessage();
    }

    /**
     * Found by fuzzing: errors quoted the argument verbatim, so a value holding a newline or a
     * terminal escape printed as several lines (the job shows only the first), and a 100,000-character
     * value as a 100,000-character error. Quoted values are escaped and cut.
     */
    @Test
    void errorsQuoteHostileValuesOnOneShortLine() {
        Cli.Args a = cli().parse(new String[] {"--input", "x", "--epochs", "1\n2\u001b[2J", "--lr", "y".repeat(100_000)});
        assertEquals("--epochs: expected an integer in [1, 100], got '1\\u000a2\\u001b[2J'",
                assertThrows(UsageException.class, () -> a.intValue("epochs", 1, 100)).getMessage());
        String lr = assertThrows(UsageException.class, () -> a.doubleValue("lr", 0, 1, false)).getMessage();
        assertEquals("--lr: expected a number in [0, 1], got '" + "y".repeat(60) + "… (100000 characters)'", lr);
        assertEquals("unexpected argument 'a\\u000ab': options start with --; see t --help", error("a\nb"));
    }
}
