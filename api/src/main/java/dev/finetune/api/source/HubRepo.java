package dev.finetune.api.source;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Hub repository at a revision: {@code hf://ORG/NAME[@REVISION]} for a model,
 * {@code hf://datasets/ORG/NAME[@REVISION][/PATH]} for a dataset (PATH is a file or directory inside it).
 * The cache layout is the hub's own: {@code models--ORG--NAME/{blobs,refs,snapshots}}.
 */
public record HubRepo(RepoType type, String id, String revision, String pathInRepo) implements Source {

    public static final String SCHEME = "hf://";
    public static final String DEFAULT_REVISION = "main";

    private static final String NAME = "[A-Za-z0-9][-A-Za-z0-9_.]*";
    private static final Pattern MODEL = Pattern.compile("^hf://(" + NAME + "/" + NAME + ")(?:@([-A-Za-z0-9_.]+))?$");
    private static final Pattern DATASET = Pattern.compile(
            "^hf://datasets/(" + NAME + "/" + NAME + ")(?:@([-A-Za-z0-9_.]+))?((?:/[-A-Za-z0-9_.]+)*)$");

    /** The kinds of hub repositories a job reads. */
    public enum RepoType {
        MODEL("models", "models"), DATASET("datasets", "datasets");

        private final String cachePrefix;
        private final String apiPath;

        RepoType(String cachePrefix, String apiPath) {
            this.cachePrefix = cachePrefix;
            this.apiPath = apiPath;
        }

        /** Path segment of the hub's REST API: /api/models/..., /api/datasets/... */
        public String apiPath() {
            return apiPath;
        }

        /** Prefix of the URL a file is resolved at: none for models, datasets/ for datasets. */
        public String resolvePrefix() {
            return this == MODEL ? "" : "datasets/";
        }
    }

    public HubRepo {
        if (revision == null) {
            revision = DEFAULT_REVISION;
        }
        if (pathInRepo == null) {
            pathInRepo = "";
        }
    }

    static HubRepo parse(String uri, String field) {
        boolean dataset = uri.startsWith(SCHEME + "datasets/");
        Matcher m = (dataset ? DATASET : MODEL).matcher(uri);
        if (!m.matches()) {
            throw new IllegalArgumentException(field + " '" + uri + "' is not " + (dataset
                    ? "hf://datasets/ORG/NAME[@REVISION][/FILE-OR-DIR]" : "hf://ORG/NAME[@REVISION]")
                    + "; names are letters, digits, '-', '_' and '.', e.g. hf://Qwen/Qwen3-0.6B@main");
        }
        String path = dataset && m.group(3) != null && !m.group(3).isEmpty() ? m.group(3).substring(1) : "";
        if (path.matches("(^|.*/)\\.\\.?(/.*|$)")) {
            throw new IllegalArgumentException(field + " '" + uri + "' has '.' or '..' in its path inside the repository");
        }
        return new HubRepo(dataset ? RepoType.DATASET : RepoType.MODEL, m.group(1), m.group(2), path);
    }

    /** True when the revision is a full commit hash (a snapshot that never moves). */
    public boolean isCommit() {
        return revision.matches("[0-9a-f]{40}");
    }

    @Override
    public String cacheDirName() {
        return type.cachePrefix + "--" + id.replace("/", "--");
    }

    @Override
    public String snapshotName() {
        return revision;
    }

    @Override
    public Path contentDir(Path cacheRoot) {
        Path snapshot = snapshotDir(cacheRoot);
        return pathInRepo.isEmpty() ? snapshot : snapshot.resolve(pathInRepo);
    }

    @Override
    public String uri() {
        return SCHEME + (type == RepoType.DATASET ? "datasets/" : "") + id + "@" + revision
                + (pathInRepo.isEmpty() ? "" : "/" + pathInRepo);
    }
}
