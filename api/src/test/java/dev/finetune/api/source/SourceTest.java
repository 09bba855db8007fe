package dev.finetune.api.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.api.source.HubRepo.RepoType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SourceTest {

    @Test
    void modelRepositoryDefaultsToMainAndUsesTheHubCacheLayout() {
        HubRepo repo = (HubRepo) Source.parse("hf://Qwen/Qwen3-0.6B", "spec.model.source");

        assertThat(repo.type()).isEqualTo(RepoType.MODEL);
        assertThat(repo.id()).isEqualTo("Qwen/Qwen3-0.6B");
        assertThat(repo.revision()).isEqualTo("main");
        assertThat(repo.isCommit()).isFalse();
        assertThat(repo.contentDir(Path.of("/cache")))
                .isEqualTo(Path.of("/cache/models--Qwen--Qwen3-0.6B/snapshots/main"));
    }

    @Test
    void datasetRepositoryKeepsThePathInsideIt() {
        HubRepo repo = (HubRepo) Source.parse("hf://datasets/tatsu-lab/alpaca@v1.0/data/train.jsonl", "f");

        assertThat(repo.type()).isEqualTo(RepoType.DATASET);
        assertThat(repo.revision()).isEqualTo("v1.0");
        assertThat(repo.pathInRepo()).isEqualTo("data/train.jsonl");
        assertThat(repo.contentDir(Path.of("/c")))
                .isEqualTo(Path.of("/c/datasets--tatsu-lab--alpaca/snapshots/v1.0/data/train.jsonl"));
        assertThat(repo.uri()).isEqualTo("hf://datasets/tatsu-lab/alpaca@v1.0/data/train.jsonl");
    }

    @Test
    void ociReferenceWithPortTagAndDigest() {
        OciRef tagged = (OciRef) Source.parse("oci://localhost:5000/models/qwen3:v2", "f");
        assertThat(tagged.registry()).isEqualTo("localhost:5000");
        assertThat(tagged.repository()).isEqualTo("models/qwen3");
        assertThat(tagged.reference()).isEqualTo("v2");
        assertThat(tagged.snapshotDir(Path.of("/c"))).isEqualTo(Path.of("/c/oci--localhost_5000--models--qwen3/snapshots/v2"));

        String digest = "sha256:" + "0123456789abcdef".repeat(4);
        OciRef pinned = OciRef.parse("r.example/a/b@" + digest, "f");
        assertThat(pinned.reference()).isEqualTo(digest);
        assertThat(pinned.toString()).isEqualTo("r.example/a/b@" + digest);
        assertThat(OciRef.parse("r.example/a/b", "f").reference()).isEqualTo("latest");
    }

    @Test
    void badSourcesNameTheFieldAndTheExpectedShape() {
        assertThatThrownBy(() -> Source.parse("s3://bucket/model", "spec.model.source"))
                .hasMessageContaining("spec.model.source 's3://bucket/model' has an unknown scheme");
        assertThatThrownBy(() -> Source.parse("hf://just-a-name", "spec.model.source"))
                .hasMessageContaining("is not hf://ORG/NAME[@REVISION]");
        assertThatThrownBy(() -> Source.parse("hf://datasets/a/b@main/../x", "spec.dataset.source"))
                .hasMessageContaining("'..'");
        assertThatThrownBy(() -> OciRef.parse("Localhost:5000/UPPER", "spec.output.push.oci"))
                .hasMessageContaining("spec.output.push.oci 'Localhost:5000/UPPER' is not an OCI reference");
    }
}
