"""Build the example report, build/example/ira_report.html, from a slice of the shared IRA data.

Takes the first ``--n`` posts of ``<data>/ira/pool.jsonl`` (fields id, author, category,
date, text), scores them with the bundled default model (``framing score``, keeping
author, date and text) and writes the report grouped by author over date. The raw
posts and the scored file stay in a temporary directory; only the report is kept.

    python tools/example_report.py [--data ../shared/data] [--n 4000] [--out build/example/ira_report.html]

The report is not committed: its examples and top-author sections quote posts and account names
of the shared data, and no text of ../shared/data belongs in this repository.
"""
from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--out", default=str(REPO / "build" / "example" / "ira_report.html"))
    a = ap.parse_args()
    src = Path(a.data) / "ira" / "pool.jsonl"
    if not src.exists():
        print(f"error: {src} not found (pass --data)", file=sys.stderr)
        return 1
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        posts, scored = Path(tmp) / "ira_slice.jsonl", Path(tmp) / "ira_scored.jsonl"
        with open(src, "rb") as fin, open(posts, "wb") as fout:
            fout.writelines(itertools.islice(fin, a.n))
        run = [sys.executable, "-m", "framing"]
        subprocess.run([*run, "score", str(posts), "-o", str(scored), "--id-field", "id",
                        "--keep-fields", "author,date,text"], check=True, cwd=REPO)
        subprocess.run([*run, "report", str(scored), "-o", a.out, "--group-by", "author", "--time-field", "date",
                        "--min-support", "10", "--title", f"IRA tweets: first {a.n} posts of the shared sample"],
                       check=True, cwd=REPO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
