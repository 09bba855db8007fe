package dev.finetune.trainer.gguf;

/** The metadata value types of GGUF v2/v3, by their on-disk code. */
enum GgufValueType {
    UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64;

    static GgufValueType of(int code) {
        GgufValueType[] all = values();
        return code >= 0 && code < all.length ? all[code] : null;
    }
}
