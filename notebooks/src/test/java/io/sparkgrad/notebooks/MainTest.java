package io.sparkgrad.notebooks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's exit codes and messages. */
class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int main(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void badArgumentsExitWithTwoAndSayWhy() {
        assertEquals(2, main());
        assertTrue(err().contains("no command given"), err());
        assertEquals(2, main("publish"));
        assertTrue(err().contains("unknown command publish"), err());
        assertEquals(2, main("run", "--conf", "novalue", "x.scala"));
        assertTrue(err().contains("--conf takes KEY=VALUE, got novalue"), err());
        assertEquals(2, main("run", "--master"));
        assertTrue(err().contains("--master needs a value"), err());
        assertEquals(2, main("ipynb"));
        assertTrue(err().contains("no notebook given"), err());
    }

    @Test
    void aFileThatIsNotANotebookExitsWithTwo() {
        assertEquals(2, main("ipynb", TestRunners.notebooksDir().resolve("pom.xml").toString()));
        assertTrue(err().contains("is not a Databricks Scala notebook in source format"), err());
        assertEquals(2, main("run", TestRunners.notebooksDir().resolve("no-such-notebook.scala").toString()));
        assertTrue(err().contains("no-such-notebook.scala"), err());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aFailingCellExitsWithOneAndNamesTheCell() {
        int code = main("run", "--master", "local[1]", "--conf", "spark.ui.enabled=false",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                TestRunners.testNotebook("failing-assertion.scala").toString());

        assertEquals(1, code);
        assertTrue(err().startsWith("failing-assertion: cell 3 failed at line 12"), err());
    }
}
