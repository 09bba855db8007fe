package dev.finetune.trainer.launch;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command that starts a rank: this JVM's own java binary, JVM options and class path, then a main
 * class and its arguments. The ranks inherit the launcher's environment, so options the JVM took from
 * {@code JAVA_TOOL_OPTIONS} / {@code JDK_JAVA_OPTIONS} (the images set DJL's flags there) reach them
 * that way and are not repeated on the command line.
 */
public final class ChildCommand {

    private static final List<String> OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

    private ChildCommand() {
    }

    /** {@code java <this JVM's options> -cp <this class path> mainClass args...}. */
    public static List<String> sameJvm(Class<?> mainClass, List<String> args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments(), System.getenv()));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(args);
        return command;
    }

    /**
     * The JVM options to repeat for a rank: the launcher's, less those that came from the environment
     * (inherited anyway) and less a debugger agent (every rank would try to listen on the same port and
     * fail to start).
     */
    static List<String> jvmOptions(List<String> inputArguments, Map<String, String> environment) {
        List<String> options = new ArrayList<>(inputArguments);
        for (String variable : OPTION_VARIABLES) {
            String value = environment.get(variable);
            if (value == null || value.isBlank()) {
                continue;
            }
            for (String token : value.strip().split("\\s+")) {
                options.remove(token);
            }
        }
        options.removeIf(o -> o.startsWith("-agentlib:jdwp") || o.startsWith("-Xrunjdwp") || o.equals("-Xdebug"));
        return options;
    }
}
