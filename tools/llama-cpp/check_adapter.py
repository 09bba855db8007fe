"""llama.cpp loads what `finetune export-gguf` writes and generates what `finetune generate` generates.

For each held-out prompt (ChatML text, system + user turn, as the model was trained on it), greedy decoding
with llama.cpp (through llama-cpp-python) on the exported F32 base GGUF, with and without the exported GGUF
LoRA adapter, must give the same text as `finetune generate` on the Hugging Face directories with and
without the PEFT adapter; and the adapter must change the output of at least one prompt (else the check
would pass with an adapter llama.cpp ignored). Prints one line per prompt and side, exits 1 on a mismatch.

  python check_adapter.py --finetune trainer-image/finetune --model DIR --adapter DIR \
      --base-gguf FILE --adapter-gguf FILE --prompts test.jsonl [--count 3] [--max-new-tokens 32]
"""
import argparse
import json
import subprocess
import sys

from llama_cpp import Llama


def chatml(messages):
    """The prompt as SmolLM2's chat template renders it with add_generation_prompt, without the answer."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages if m["role"] != "assistant")
    return text + "<|im_start|>assistant\n"


def ours(args, prompt, adapter):
    cmd = [args.finetune, "generate", "--model", args.model, "--prompt", prompt,
           "--max-new-tokens", str(args.max_new_tokens)]
    if adapter:
        cmd += ["--adapter", args.adapter]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out[:-1] if out.endswith("\n") else out


def llama_cpp(llm, prompt, max_new_tokens):
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    stops = {llm.token_eos(), 2}
    generated = []
    for token in llm.generate(tokens, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
        if token in stops or len(generated) == max_new_tokens:
            break
        generated.append(token)
    return llm.detokenize(generated).decode("utf-8", errors="replace")


def main():
    p = argparse.ArgumentParser()
    for flag in ("--finetune", "--model", "--adapter", "--base-gguf", "--adapter-gguf", "--prompts"):
        p.add_argument(flag, required=True)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--max-new-tokens", type=int, default=32)
    args = p.parse_args()

    with open(args.prompts, encoding="utf-8") as f:
        prompts = [chatml(json.loads(line)["messages"]) for line in f if line.strip()][: args.count]
    if not prompts:
        sys.exit(f"{args.prompts}: no records")

    finetune = {side: [ours(args, prompt, side) for prompt in prompts] for side in (False, True)}
    mismatches = 0
    for with_adapter in (False, True):
        llm = Llama(model_path=args.base_gguf, lora_path=args.adapter_gguf if with_adapter else None,
                    n_ctx=512, n_threads=2, seed=0, verbose=False)
        side = "base + adapter" if with_adapter else "base"
        for i, prompt in enumerate(prompts):
            expected = finetune[with_adapter][i]
            got = llama_cpp(llm, prompt, args.max_new_tokens)
            mismatches += got != expected
            print(f"{'same' if got == expected else 'DIFFERENT'}  prompt {i + 1}, {side}: finetune {expected!r}"
                  + ("" if got == expected else f" | llama.cpp {got!r}"))
        del llm
    changed = sum(a != b for a, b in zip(finetune[False], finetune[True]))
    print(f"llama.cpp adapter check: {2 * len(prompts) - mismatches} of {2 * len(prompts)} generations identical; "
          f"the adapter changed {changed} of {len(prompts)}")
    if changed == 0:
        print("FAIL: the adapter changed no generation, so this check cannot tell whether llama.cpp applied it")
    sys.exit(1 if mismatches or changed == 0 else 0)


if __name__ == "__main__":
    main()
