"""Hostile rows and killed runs: --max-chars bounds the work per row; a run killed by SIGTERM or SIGKILL
continues on a rerun and ends with the same output as an uninterrupted run; reruns that cannot continue
refuse clearly. Tiny random model (fixtures of test_score)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .test_score import _env, _invoke, _jsonl, _same, _tweet, det, model_dir  # noqa: F401 - fixtures

WORD = "今天天气很好他们就是一群蟑螂 these people are rats "


def _long(n: int) -> str:
    return (WORD * (n // len(WORD) + 1))[:n]


# ---- --max-chars ---------------------------------------------------------------------------------------------
def test_truncated_text_is_scored_on_its_prefix(det: Any) -> None:  # noqa: F811
    from framing.normalizer import normalize

    text = "  " + _long(3000)
    d = det.detect(text, max_chars=1000)
    assert d.truncated and d.to_dict()["truncated"] is True and d.text == text
    prefix = normalize(text, det.norm_config).text[:1000]
    ref = det.detect(prefix, max_chars=0)
    assert not ref.truncated and "truncated" not in ref.to_dict()
    assert d.scores == pytest.approx(ref.scores, abs=1e-6) and d.labels == ref.labels
    for e in d.evidence:  # evidence still indexes the original text, inside the scored part
        assert text[e.start:e.end] == e.surface and e.end <= len(text)
    full = det.detect(text, max_chars=0)
    assert not full.truncated and det.detect(text).truncated is False  # 3,002 < the default 10,000
    short = det.detect("these people are rats", max_chars=1000)
    assert not short.truncated and set(short.to_dict()) == {"text", "labels", "scores", "language", "evidence"}


def test_a_1mb_row_costs_no_more_than_a_10k_row(det: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The work per row is counted: characters normalised and tokens fed to the model."""
    import framing.detector as detector_mod

    work = {"chars": 0, "tokens": 0}
    real_normalize, real_model = detector_mod.normalize, det.model

    def counting_normalize(text: str, config: Any = None) -> Any:
        work["chars"] += len(text)
        return real_normalize(text, config)

    class CountingModel:
        def __call__(self, input_ids: Any, attention_mask: Any) -> Any:
            work["tokens"] += int(attention_mask.sum())
            return real_model(input_ids=input_ids, attention_mask=attention_mask)

    monkeypatch.setattr(detector_mod, "normalize", counting_normalize)
    monkeypatch.setattr(det, "model", CountingModel())

    def cost(text: str) -> tuple[dict[str, int], float, Any]:
        work.update(chars=0, tokens=0)
        t0 = time.perf_counter()
        d = det.detect_many([text], evidence=False)[0]
        return dict(work), time.perf_counter() - t0, d

    ten_k, t_10k, d_10k = cost(_long(10_000))
    one_mb, t_1mb, d_1mb = cost(_long(1_000_000))
    print(f"\n10,000 chars: {ten_k} {t_10k:.3f}s; 1,000,000 chars: {one_mb} {t_1mb:.3f}s")
    assert not d_10k.truncated and d_1mb.truncated
    assert one_mb["tokens"] <= ten_k["tokens"]  # the model sees no more of the 1 MB row
    assert one_mb["chars"] <= 10_000 + 512 < 1_000_000  # and only a prefix of it is normalised
    assert d_1mb.scores == pytest.approx(d_10k.scores, abs=1e-6)  # same first 10,000 characters


def test_score_records_and_summary_count_truncated_rows(tmp_path: Path, model_dir: Path) -> None:  # noqa: F811
    src = tmp_path / "in.jsonl"
    rows = [{"text": "rats"}, {"text": _long(2500)}, {"text": None}, {"text": _long(1200)}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        r = _invoke(str(src), "-o", str(out), "--model", str(model_dir), "--max-chars", "1000", "--no-evidence")
        assert r.exit_code == 0, r.output
        assert "2 rows longer than --max-chars" in r.stderr
        if fmt == "jsonl":
            got = _jsonl(out)
        elif fmt == "csv":
            import csv

            with open(out, newline="", encoding="utf-8") as f:
                got = list(csv.DictReader(f))
            assert [g["truncated"] for g in got] == ["", "true", "", "true"]
            continue
        else:
            import pyarrow.parquet as pq

            got = pq.read_table(out).to_pylist()
            assert [g["truncated"] for g in got] == [None, True, None, True]
            continue
        assert ["truncated" in g for g in got] == [False, True, False, True] and got[1]["truncated"] is True
    r = _invoke(str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir), "--max-chars", "0")
    assert r.exit_code == 0 and "longer than --max-chars" not in r.stderr
    assert not any("truncated" in g for g in _jsonl(tmp_path / "o.jsonl"))
    r = _invoke(str(src), "--model", str(model_dir), "--max-chars", "-1")
    assert r.exit_code == 2


# ---- killed runs ------------------------------------------------------------------------------------------
def _checkpointed_rows(out: Path) -> int:
    try:
        return json.loads(Path(f"{out}.checkpoint").read_text())["rows"]
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_continues_on_rerun(tmp_path: Path, model_dir: Path, det: Any, sig: int) -> None:  # noqa: F811
    from framing.score import ScoreOptions, score_file

    rng = random.Random(1)
    src, out, ref = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "ref.jsonl"
    n = 6_000
    lines = [json.dumps({"id": i, "text": _tweet(rng)}) for i in range(n)]
    lines[100] = "{not json"
    src.write_text("\n".join(lines) + "\n")
    args = ["-m", "framing", "score", str(src), "-o", str(out), "--model", str(model_dir), "--no-evidence",
            "--id-field", "id", "--batch-size", "8", "-q"]
    proc = subprocess.Popen([sys.executable, *args], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None and _checkpointed_rows(out) < 512:
        time.sleep(0.01)
    os.kill(proc.pid, sig)
    proc.wait()
    assert proc.returncode == -sig, "the run finished before it could be killed"
    done = _checkpointed_rows(out)
    assert 0 < done < n and not out.exists()  # nothing at OUTPUT until the run is complete
    with open(f"{out}.partial", "ab") as f:
        f.write(b'{"id": 99999, "labels": ["deh')  # a torn write past the checkpoint
    r = subprocess.run([sys.executable, *args[:-1]], env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{done} rows were already done (resumed)" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]
    score_file(det, str(src), str(ref), ScoreOptions(evidence=False, id_field="id", batch_size=8))
    print(f"\nkilled by {signal.Signals(sig).name} after {done} of {n} rows; "
          f"byte-identical after the rerun: {out.read_bytes() == ref.read_bytes()}")
    _same(_jsonl(out), _jsonl(ref))


class _Interrupting:
    """A detector that raises KeyboardInterrupt at its ``stop``-th call (a Ctrl-C in the middle of a file)."""

    def __init__(self, det: Any, stop: int) -> None:
        self.det, self.stop, self.calls = det, stop, 0
        self.labels, self.config = det.labels, det.config

    def detect_many(self, texts: list[str], **kw: Any) -> list:
        self.calls += 1
        if self.calls == self.stop:
            raise KeyboardInterrupt
        return self.det.detect_many(texts, **kw)


@pytest.mark.parametrize("fmt", ["parquet", "tsv"])
def test_interrupted_run_continues_in_every_format(tmp_path: Path, det: Any, fmt: str) -> None:  # noqa: F811
    import dataclasses

    from framing.output import read_output
    from framing.score import OUTPUT_FIELDS, ScoreOptions, score_file

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"rats {i}\tx\n", "k": i}) + "\n" for i in range(100)))
    o = ScoreOptions(batch_size=4, chunk_batches=2, keep_fields=("k",))
    full, out = tmp_path / f"full.{fmt}", tmp_path / f"out.{fmt}"
    score_file(det, str(src), str(full), o)
    with pytest.raises(KeyboardInterrupt):
        score_file(_Interrupting(det, 5), str(src), str(out), o)
    assert not out.exists() and json.loads(Path(f"{out}.checkpoint").read_text())["rows"] == 32
    s = score_file(det, str(src), str(out), dataclasses.replace(o, chunk_batches=3))  # chunking is no option
    assert (s.rows, s.resumed) == (100, 32)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(out).to_pylist() == pq.read_table(full).to_pylist()
    else:
        cols = (*OUTPUT_FIELDS, "k")
        _same(list(read_output(str(out), fmt, cols, 100)), list(read_output(str(full), fmt, cols, 100)))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.jsonl", full.name, out.name])


def test_rerun_refuses_or_continues_as_told(tmp_path: Path, det: Any, model_dir: Path) -> None:  # noqa: F811
    from framing.score import ScoreOptions, score_file

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"text": f"rats {i}"}) + "\n" for i in range(40)))
    o = ScoreOptions(batch_size=2, chunk_batches=2, evidence=False)
    with pytest.raises(KeyboardInterrupt):
        score_file(_Interrupting(det, 3), str(src), str(out), o)
    m = ["--model", str(model_dir), "--batch-size", "2", "--no-evidence"]
    r = _invoke(str(src), "-o", str(out), *m, "--max-chars", "500")
    assert r.exit_code == 1 and "holds 8 rows of an interrupted run with other options (--max-chars)" in r.output
    assert "--overwrite" in r.output
    r = _invoke(str(src), "-o", str(out), *m, "--threshold", "0.9")
    assert r.exit_code == 1 and "another model" in r.output
    os.utime(src, ns=(1, 1))  # the input file changed
    r = _invoke(str(src), "-o", str(out), *m)
    assert r.exit_code == 1 and "input file has changed" in r.output and "--resume" in r.output
    r = _invoke(str(src), "-o", str(out), *m, "--resume", "--overwrite")
    assert r.exit_code == 1 and "exclude each other" in r.output
    r = _invoke(str(src), "-o", str(out), *m, "--resume")
    assert r.exit_code == 0 and "8 rows were already done" in r.stderr and len(_jsonl(out)) == 40
    with pytest.raises(KeyboardInterrupt):
        score_file(_Interrupting(det, 3), str(src), str(out), o)
    r = _invoke(str(src), "-o", str(out), *m, "--overwrite")
    assert r.exit_code == 0 and "already done" not in r.stderr and len(_jsonl(out)) == 40
    with pytest.raises(KeyboardInterrupt):  # standard input cannot be checked: continue only when told
        score_file(_Interrupting(det, 3), str(src), str(out), o)
    r = _invoke("-", "-o", str(out), *m, input=src.read_text())
    assert r.exit_code == 1 and "standard input" in r.output
    r = _invoke("-", "-o", str(out), *m, "--resume", input=src.read_text())
    assert r.exit_code == 0 and "8 rows were already done" in r.stderr and len(_jsonl(out)) == 40


def test_freed_memory_is_given_back_after_every_chunk(tmp_path: Path, det: Any,  # noqa: F811
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak RSS must not creep up with rows: glibc's freed blocks are trimmed after each chunk."""
    import framing.score as score

    if sys.platform.startswith("linux") and os.path.exists("/lib/x86_64-linux-gnu/libc.so.6"):
        assert score.release_freed_memory() is True
    calls: list[int] = []
    real = score.release_freed_memory
    monkeypatch.setattr(score, "release_freed_memory", lambda: calls.append(1) or real())
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"post {i}"}) + "\n" for i in range(10)), encoding="utf-8")
    o = score.ScoreOptions(batch_size=2, chunk_batches=2, evidence=False)  # chunks of 4 rows: 3 chunks
    s = score.score_file(det, str(src), str(tmp_path / "out.jsonl"), o)
    assert s.rows == 10 and len(calls) == 3
    calls.clear()
    assert len(list(score.score_rows(det, [{"text": "a"}] * 10, o))) == 10 and len(calls) == 3
