package dev.finetune.api.source;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OCI artifact reference {@code REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]}, as written after {@code oci://}
 * in a source or in {@code output.push.oci}. The tag defaults to {@code latest}.
 */
public record OciRef(String registry, String repository, String tag, String digest) implements Source {

    public static final String SCHEME = "oci://";
    public static final String DEFAULT_TAG = "latest";

    private static final Pattern REF = Pattern.compile("^([a-zA-Z0-9][-a-zA-Z0-9.]*(?::[0-9]+)?)/([a-z0-9]+(?:[._/-][a-z0-9]+)*)"
            + "(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$");

    /** Parses REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST] (no scheme). */
    public static OciRef parse(String ref, String field) {
        Matcher m = REF.matcher(ref == null ? "" : ref);
        if (!m.matches()) {
            throw new IllegalArgumentException(field + " '" + ref + "' is not an OCI reference REGISTRY/REPOSITORY[:TAG] "
                    + "(lower-case repository, registry with a host name and optional port), e.g. localhost:5000/adapters/demo:v1");
        }
        return new OciRef(m.group(1), m.group(2), m.group(3), m.group(4));
    }

    /** What to ask the registry's manifest endpoint for: the digest when pinned, else the tag. */
    public String reference() {
        if (digest != null) {
            return digest;
        }
        return tag != null ? tag : DEFAULT_TAG;
    }

    /** The same repository pinned at {@code newDigest}. */
    public OciRef withDigest(String newDigest) {
        return new OciRef(registry, repository, null, newDigest);
    }

    @Override
    public String cacheDirName() {
        return "oci--" + registry.replace(":", "_") + "--" + repository.replace("/", "--");
    }

    @Override
    public String snapshotName() {
        return reference().replace(":", "-");
    }

    @Override
    public String uri() {
        return SCHEME + this;
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (digest != null ? "@" + digest : ":" + reference());
    }
}
