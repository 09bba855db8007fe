package dev.finetune.trainer.cli;

import dev.finetune.api.source.OciRef;
import dev.finetune.trainer.oci.ArtifactLayout;
import dev.finetune.trainer.oci.OciArtifacts;
import dev.finetune.trainer.oci.RegistryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune push}: an adapter (or model) directory to an OCI registry as one artifact. */
@Command(name = "push", description = {"Pushes an adapter directory (adapter_config.json + adapter_model.safetensors) to an",
        "OCI registry as an artifact (ORAS layout, artifactType " + ArtifactLayout.ADAPTER_ARTIFACT + ") and prints its digest."})
final class PushCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "the adapter directory, e.g. a run's adapter/")
    Path dir;

    @Parameters(index = "1", paramLabel = "REF", description = "REGISTRY/REPOSITORY[:TAG], optionally with oci://")
    String reference;

    @Option(names = "--model", description = "push a Hugging Face model directory (artifactType " + ArtifactLayout.MODEL_ARTIFACT + ")")
    boolean model;

    @Mixin
    RegistryOptions registry;

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(dir)) {
            throw CliException.usage(dir + " is not a directory", "give the adapter directory, e.g. runs/my-job/final");
        }
        OciRef ref = RegistryOptions.reference(reference, "REF");
        OciArtifacts.Pushed pushed;
        try {
            pushed = new OciArtifacts(registry.client(ref, System.getenv()))
                    .push(dir, ref, model ? ArtifactLayout.MODEL_ARTIFACT : ArtifactLayout.ADAPTER_ARTIFACT);
        } catch (RegistryException e) {
            throw RegistryOptions.failed("push " + ref, e);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage(), null);
        }
        System.out.printf(Locale.ROOT, "pushed %s: %d files, %,d bytes%n", ref, pushed.files().size(), pushed.bytes());
        System.out.println(pushed.pinned());
        return 0;
    }
}
