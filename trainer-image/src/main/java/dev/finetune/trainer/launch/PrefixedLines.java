package dev.finetune.trainer.launch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies a rank's output to the launcher's, one whole line at a time with a {@code [rank R]} prefix, so
 * the ranks' lines interleave without tearing and {@code kubectl logs} reads like torchrun's output.
 */
final class PrefixedLines extends Thread {

    private final InputStream from;
    private final PrintStream to;
    private final String prefix;

    PrefixedLines(InputStream from, PrintStream to, String prefix, String name) {
        super(name);
        setDaemon(true);
        this.from = from;
        this.to = to;
        this.prefix = prefix;
    }

    @Override
    public void run() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(from, StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                to.println(prefix + line); // PrintStream.println is atomic per call
            }
        } catch (IOException e) {
            to.println(prefix + "(output lost: " + e.getMessage() + ")");
        } finally {
            to.flush();
        }
    }
}
