"""A fixed GPU generation workload to measure with ``python interface.py measure``.

Builds the Llama-3.1-8B architecture (random bf16 weights: no download; time
and energy of a fixed number of tokens do not depend on the weights' values to
first order) and generates exactly ``--batch x --output-tokens`` tokens per
repetition from ``--input-tokens`` random prompt tokens, ``--repeats`` times.
It prints the token counts as JSON, so that the measurement can be divided by
them. Run on a CUDA machine; ``--dry-run`` runs a tiny model on the CPU.

    python interface.py measure --region FRA --in_tok 131072 --out_tok 65536 --json -- \\
        python benchmarks/gpu_workload.py --batch 64 --output-tokens 256 --repeats 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_energy_sweep import LLAMA31_8B, TINY, build_model, decode, prefill, sync  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64, help="sequences generated at once")
    parser.add_argument("--input-tokens", type=int, default=512, help="prompt tokens per sequence")
    parser.add_argument("--output-tokens", type=int, default=256, help="generated tokens per sequence (EOS is never checked)")
    parser.add_argument("--repeats", type=int, default=4, help="generations of the whole batch")
    parser.add_argument("--dry-run", action="store_true", help="tiny model on the CPU, to check the script")
    args = parser.parse_args(argv)

    device = torch.device("cpu" if args.dry_run else "cuda")
    dtype = torch.float32 if args.dry_run else torch.bfloat16
    started = time.perf_counter()
    model, cfg = build_model(TINY if args.dry_run else LLAMA31_8B, device, dtype, "sdpa")
    sync(device)
    built = time.perf_counter()
    generator = torch.Generator(device=device).manual_seed(0)
    for _ in range(args.repeats):
        ids = torch.randint(0, cfg.vocab_size, (args.batch, args.input_tokens), device=device, generator=generator)
        cache, token = prefill(model, ids)  # the first output token
        decode(model, cache, token, args.output_tokens - 1)
    sync(device)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "input_tokens": args.batch * args.input_tokens * args.repeats,
                "output_tokens": args.batch * args.output_tokens * args.repeats,
                "model_build_s": built - started,
                "generation_s": done - built,
                "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
