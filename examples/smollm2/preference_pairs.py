"""Preference pairs for DPO on the booking task (docs/trainer.md, "On the real model").

Reads the messages JSONL that examples/smollm2/run.sh writes (system + user + the house-style answer) and writes
prompt/chosen/rejected records: chosen is the one-line house-style JSON, rejected is what the pretrained model
tends to answer instead (pretty-printed, a made-up booking id, other key names, the date in words).

  python3 examples/smollm2/preference_pairs.py SMOLLM2_DIR/data/smollm2 OUT_DIR
"""
import json
import pathlib
import sys

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def rejected(answer):
    d = json.loads(answer)
    month, day = d["check_in"].split("-")
    return json.dumps({"id": "1234567890", "guest": d["name"], "city": d["city"],
                       "date": f"{MONTHS[int(month) - 1]} {int(day)}", "nights": d["nights"], "guests": d["guests"]},
                      indent=2)


def main():
    src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name in ("train.jsonl", "eval.jsonl"):
        rows = [json.loads(line) for line in (src / name).read_text().splitlines() if line.strip()]
        with open(out / name, "w") as f:
            for r in rows:
                messages, answer = r["messages"][:-1], r["messages"][-1]["content"]
                f.write(json.dumps({"prompt": messages, "chosen": [{"role": "assistant", "content": answer}],
                                    "rejected": [{"role": "assistant", "content": rejected(answer)}]}) + "\n")
        print(f"{out / name}: {len(rows)} pairs")


if __name__ == "__main__":
    main()
