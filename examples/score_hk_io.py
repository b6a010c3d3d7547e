"""Score a sample of the hk_io pool and print the per-language report.

Takes ``--sample`` rows (seeded, spread over the file) of
../shared/data/hk_io/pool.jsonl (fields: id, lang, text), scores them with
``framing.score.score_file`` exactly as ``framing score`` would, and writes the
scored JSONL plus a per-group report with ``lang`` as the group.

    python examples/score_hk_io.py --model path/to/model [POOL] [--sample 500] [--out-dir out/hk_io]

The same with the command line:

    framing score sample.jsonl -o scored.jsonl --model path/to/model --id-field id \\
        --keep-fields lang --group-by lang --report report.csv
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_POOL = REPO.parent / "shared" / "data" / "hk_io" / "pool.jsonl"


def sample_lines(pool: Path, n: int, seed: int) -> list[bytes]:
    """Reservoir sample of ``n`` lines, in file order, without holding the whole file."""
    rng, keep = random.Random(seed), []  # type: ignore[var-annotated]
    with open(pool, "rb") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            if len(keep) < n:
                keep.append((i, line))
            else:
                j = rng.randint(0, i)
                if j < n:
                    keep[j] = (i, line)
    return [line if line.endswith(b"\n") else line + b"\n" for _, line in sorted(keep)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pool", nargs="?", type=Path, default=DEFAULT_POOL, help=f"default: {DEFAULT_POOL}")
    ap.add_argument("--model", "-m", help="model directory (default: the bundled one)")
    ap.add_argument("--sample", type=int, default=500)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out-dir", type=Path, default=Path("out/hk_io"))
    ap.add_argument("--int8", action="store_true")
    args = ap.parse_args()

    from framing.default import default_model_dir
    from framing.detector import CONFIG_NAME, Detector
    from framing.score import ScoreOptions, format_summary, score_file

    if not args.pool.exists():
        sys.exit(f"no pool at {args.pool}; give its path as the first argument")
    model = args.model or str(default_model_dir())
    if not (Path(model) / CONFIG_NAME).exists():
        sys.exit(f"no framing model at {model}; pass --model DIR")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    sample = args.out_dir / "sample.jsonl"
    sample.write_bytes(b"".join(sample_lines(args.pool, args.sample, args.seed)))

    opts = ScoreOptions(id_field="id", keep_fields=("lang",), group_by="lang",
                        report=str(args.out_dir / "report.csv"), progress=sys.stderr.isatty())
    summary = score_file(lambda: Detector.from_pretrained(model, quantize="int8" if args.int8 else None),
                         str(sample), str(args.out_dir / "scored.jsonl"), opts)
    print(format_summary(summary), file=sys.stderr)
    labels = list(summary.label_counts)
    print(f"\n{'lang':<10}{'rows':>6}{'errors':>8}" + "".join(f"{lab[:14]:>16}" for lab in labels) + "   top terms")
    for g in summary.groups or ():
        rates = "".join(f"{g.label_rows[lab]:>7} ({g.rates[lab]:.1%})".rjust(16) for lab in labels)
        terms = ", ".join(t for t, _ in g.top_terms[:5])
        print(f"{g.group:<10}{g.rows:>6}{g.errors:>8}{rates}   {terms}")
    with open(args.out_dir / "report.json", "w", encoding="utf-8") as f:
        json.dump([g.to_dict() for g in summary.groups or ()], f, ensure_ascii=False, indent=2)
    print(f"\nscored rows: {args.out_dir / 'scored.jsonl'}; report: {args.out_dir / 'report.csv'} (+ .json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
