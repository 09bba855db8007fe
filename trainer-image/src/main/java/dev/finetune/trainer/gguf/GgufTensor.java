package dev.finetune.trainer.gguf;

/**
 * One tensor's entry in a GGUF file.
 *
 * @param name the llama.cpp tensor name ({@code blk.0.attn_q.weight})
 * @param shape PyTorch order (outermost first): GGUF stores the innermost dimension first, this is reversed
 * @param type the element type
 * @param offset absolute byte offset of the data in the file
 * @param bytes the data's length in bytes
 */
public record GgufTensor(String name, long[] shape, GgmlType type, long offset, long bytes) {

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public String typeName() {
        return type.name();
    }
}
