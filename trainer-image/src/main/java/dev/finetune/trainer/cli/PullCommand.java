package dev.finetune.trainer.cli;

import dev.finetune.api.source.OciRef;
import dev.finetune.trainer.oci.OciArtifacts;
import dev.finetune.trainer.oci.RegistryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune pull}: an artifact from an OCI registry into a directory, every file checked against its digest. */
@Command(name = "pull", description = {"Pulls an OCI file artifact (a pushed adapter or model, or any ORAS artifact) into a",
        "directory, each file verified by its digest; pin it with @sha256:DIGEST as printed by push or status.outputs."})
final class PullCommand implements Callable<Integer> {

    @Parameters(paramLabel = "REF", description = "REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], optionally with oci://")
    String reference;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "a new or empty directory")
    Path out;

    @Mixin
    RegistryOptions registry;

    @Override
    public Integer call() throws IOException {
        if (Files.exists(out) && (!Files.isDirectory(out) || !isEmpty(out))) {
            throw CliException.usage("--out " + out + (Files.isDirectory(out) ? " is not empty" : " is a file"),
                    "give a new or empty directory");
        }
        OciRef ref = RegistryOptions.reference(reference, "REF");
        OciArtifacts.Pulled pulled;
        try {
            pulled = new OciArtifacts(registry.client(ref, System.getenv())).pull(ref, out);
        } catch (RegistryException e) {
            throw RegistryOptions.failed("pull " + ref, e);
        }
        for (Path file : pulled.files()) {
            System.out.println(file);
        }
        System.out.println("pulled " + ref.withDigest(pulled.digest()) + " into " + out);
        return 0;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
