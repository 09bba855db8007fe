#!/usr/bin/env python3
"""Peer for the data pipeline throughput benchmark (TokenizationThroughputIT): the same records, the same
work done the Hugging Face way - apply_chat_template on the full conversation and on the prefixes around
every assistant turn (how the Java pipeline finds learned spans), then one fast-tokenizer call with offsets.

  /tmp/ctvenv/bin/python bench_peer.py --tokenizer ~/.cache/finetune/tokenizers/tokenizer-llama3@3.7.2 --records 4000
"""
import argparse
import time

from transformers import AutoTokenizer

VOCAB = "the of and to in is was for on that with as by at from this are be or an it which have not but".split(" ")
MASK64 = (1 << 64) - 1


def generate(n):
    state = 12345
    records = []
    for k in range(n):
        turns = 1 if k % 2 == 0 else 3
        messages = []
        for _ in range(turns):
            for role in ("user", "assistant"):
                words = 20 if role == "user" else 60
                content = []
                for _ in range(words):
                    state = (state * 6364136223846793005 + 1442695040888963407) & MASK64
                    content.append(VOCAB[(state >> 33) % len(VOCAB)])
                messages.append({"role": role, "content": " ".join(content)})
        records.append(messages)
    return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--records", type=int, default=4000)
    args = ap.parse_args()
    tok = AutoTokenizer.from_pretrained(args.tokenizer)
    records = generate(args.records)

    def work(messages):
        full = tok.apply_chat_template(messages, tokenize=False)
        for k, m in enumerate(messages):
            if m["role"] == "assistant":
                tok.apply_chat_template(messages[:k], tokenize=False, add_generation_prompt=True)
                tok.apply_chat_template(messages[:k + 1], tokenize=False)
        return tok(full, add_special_tokens=False, return_offsets_mapping=True)["input_ids"]

    for messages in records[:200]:
        work(messages)  # warm-up
    t0 = time.perf_counter()
    tokens = sum(len(work(m)) for m in records)
    seconds = time.perf_counter() - t0
    print(f"PEER transformers apply_chat_template + fast tokenizer ({args.records} records, 1 process): "
          f"{seconds:.2f} s, {args.records / seconds:.0f} records/s, {tokens / seconds:.0f} tokens/s")


if __name__ == "__main__":
    main()
