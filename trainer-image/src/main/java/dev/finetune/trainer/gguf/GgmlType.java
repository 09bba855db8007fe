package dev.finetune.trainer.gguf;

/**
 * The ggml tensor element types this importer dequantises, with their on-disk code and block layout:
 * {@code blockSize} elements are stored in {@code blockBytes} bytes. Codes follow ggml's {@code ggml_type}.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    final int code;
    final int blockSize;
    final int blockBytes;

    GgmlType(int code, int blockSize, int blockBytes) {
        this.code = code;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type with this code, or null when the importer cannot dequantise it. */
    static GgmlType of(long code) {
        for (GgmlType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** ggml's names of the codes this importer does not read, for error messages. */
    static String nameOf(long code) {
        GgmlType t = of(code);
        if (t != null) {
            return t.name();
        }
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
            "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16"};
        return code >= 0 && code < names.length ? names[(int) code] : "type " + code;
    }

    /** Bytes that {@code elements} values (a whole number of blocks) take. */
    long bytesFor(long elements) {
        return elements / blockSize * blockBytes;
    }
}
