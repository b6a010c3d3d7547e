"""``framing score``: streaming, bad rows, order, resume, CSV/TSV/Parquet round trips, reports (kills: test_hostile).

A tiny random model is used (built once per module); thresholds are set in its
``framing_config.json`` so labels are deterministic: dehumanising is on for every
non-empty text, delegitimising never.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from framing.cli import cli

from .tiny import make_tiny_backbone

LABELS = ("dehumanising", "delegitimising")
REPO = Path(__file__).resolve().parents[1]
WORDS = ("these people are rats and must be removed from our city today the weather is nice hong kong police "
         "protest rioters foreign forces 暴徒 勾结 外国 势力 蟑螂 今天 天气 香港人").split()
# Peak RSS of the scoring process itself: VmHWM belongs to the process's own address space (reset at exec),
# whereas ru_maxrss also counts the forking parent's memory (a pytest process that loaded real models).
PEAK = ("import resource, sys\nfrom framing.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
        "    try:\n        kb = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "    except (OSError, IndexError):\n        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    print('PEAK_RSS_KB', kb, file=sys.stderr)\n")


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """The tiny model is fastest single-threaded, and thread spinning is very slow on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from framing.detector import Detector
    from framing.model import ModelConfig

    root = tmp_path_factory.mktemp("score_model")
    bb = make_tiny_backbone(root / "backbone")
    out = Detector.build(LABELS, ModelConfig(base_model=str(bb), max_length=64), backbone_dir=str(bb)).save_pretrained(
        root / "model")
    cfg_path = out / "framing_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["thresholds"] = {"dehumanising": 0.01, "delegitimising": 1.0}
    cfg_path.write_text(json.dumps(cfg))
    return out


@pytest.fixture(scope="module")
def det(model_dir: Path) -> Any:
    from framing.detector import Detector

    return Detector.from_pretrained(model_dir)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}


def _tweet(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _invoke(*args: str, input: str | bytes | None = None) -> Any:
    return CliRunner().invoke(cli, ["score", *args], input=input, catch_exceptions=False)


def _same(a: list[dict], b: list[dict]) -> None:
    """Record-for-record equality; scores within 1e-4 (batch composition may differ after a resume)."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert {k: v for k, v in x.items() if k != "scores"} == {k: v for k, v in y.items() if k != "scores"}
        if x.get("scores") is not None or y.get("scores") is not None:
            sx = x["scores"] if isinstance(x["scores"], dict) else json.loads(x["scores"])
            sy = y["scores"] if isinstance(y["scores"], dict) else json.loads(y["scores"])
            assert sx.keys() == sy.keys() and all(abs(sx[k] - sy[k]) < 1e-4 for k in sx)


# ---- every kind of bad row, order, ids, bounded memory -----------------------------------------------------
BAD_KINDS = ("invalid_json", "missing_text", "null_text", "number_text", "undecodable", "array", "empty_text")


def _write_bad_rows(path: Path, n: int) -> dict[int, str]:
    """n JSONL rows (id r0..); every 500th row from the 17th is one kind of bad row. Returns {index: kind}."""
    rng, bad = random.Random(0), {}
    with open(path, "wb") as f:
        for i in range(n):
            kind = BAD_KINDS[(i // 500) % len(BAD_KINDS)] if i % 500 == 17 else "ok"
            rec: dict[str, Any] = {"id": f"r{i}", "text": _tweet(rng), "src": f"s{i % 3}"}
            if kind == "invalid_json":
                line = b'{"id": "r%d", "text": "unterminated' % i
            elif kind == "undecodable":
                line = b'{"id": "r%d", "text": "caf\xe9 \xff"}' % i
            elif kind == "array":
                line = b'["r%d", "text"]' % i
            else:
                if kind == "missing_text":
                    del rec["text"]
                elif kind == "null_text":
                    rec["text"] = None
                elif kind == "number_text":
                    rec["text"] = 3.5
                elif kind == "empty_text":
                    rec["text"] = ""
                line = json.dumps(rec, ensure_ascii=False).encode()
            f.write(line + b"\n")
            if kind != "ok":
                bad[i] = kind
    return bad


def _check_bad_rows_run(tmp_path: Path, model_dir: Path, n: int) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    bad = _write_bad_rows(src, n)
    assert set(bad.values()) == set(BAD_KINDS)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", PEAK, "score", str(src), "-o", str(out), "--model", str(model_dir),
                        "--no-evidence", "--id-field", "id", "--keep-fields", "src", "--batch-size", "64"],
                       capture_output=True, text=True, env=_env(), timeout=900)
    wall = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr[-3000:]
    peak_mb = int(r.stderr.split("PEAK_RSS_KB")[1].split()[0]) / 1024
    print(f"\n{n} rows in {wall:.1f}s wall, peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 1536
    recs = _jsonl(out)
    assert len(recs) == n
    errors = {i for i, rec in enumerate(recs) if "error" in rec}
    assert errors == {i for i, k in bad.items() if k != "empty_text"}
    for i, rec in enumerate(recs):
        kind = bad.get(i, "ok")
        if kind in ("invalid_json", "undecodable", "array"):
            assert rec["id"] is None and f"(row {i + 1})" in rec["error"] and rec["src"] is None
        else:
            assert rec["id"] == f"r{i}" and rec["src"] == f"s{i % 3}"
        if kind == "empty_text":
            assert rec["labels"] == [] and rec["scores"] == {lab: 0.0 for lab in LABELS}
        elif kind == "ok":
            assert rec["labels"] == ["dehumanising"] and rec["evidence"] is None
    assert "undecodable" in recs[min(i for i, k in bad.items() if k == "undecodable")]["error"]
    assert "invalid JSON" in recs[min(i for i, k in bad.items() if k == "invalid_json")]["error"]
    assert f"scored {n} rows ({len(errors)} errors)" in r.stderr
    assert re.search(rf"dehumanising +{n - len(bad)} ", r.stderr) and re.search(r"delegitimising +0 ", r.stderr)


def test_bad_rows_5k(tmp_path: Path, model_dir: Path) -> None:
    _check_bad_rows_run(tmp_path, model_dir, 5_000)


@pytest.mark.slow
def test_bad_rows_100k(tmp_path: Path, model_dir: Path) -> None:
    _check_bad_rows_run(tmp_path, model_dir, 100_000)


def test_default_ids_blank_lines_bom_and_long_text(tmp_path: Path, model_dir: Path) -> None:
    src = tmp_path / "in.jsonl"
    long = "今天天气很好 " * 300 + "他们就是一群蟑螂"
    src.write_bytes(b"\xef\xbb\xbf" + b'{"text": "a"}\n\n  \n{"text": "%s"}\r\n{"text": "  "}\n' % long.encode())
    r = _invoke(str(src), "--model", str(model_dir), "-q")
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["id"] for x in recs] == [1, 4, 5]  # line numbers; blank lines are not records
    assert recs[1]["labels"] == ["dehumanising"] and "error" not in recs[1]
    assert recs[2]["labels"] == []  # whitespace only: scored as empty


def test_stdin_stdout_thresholds_and_strict(model_dir: Path) -> None:
    data = '{"text": "these people are rats"}\n{"text": 5}\n'
    r = _invoke("-", "--model", str(model_dir), "--threshold", "1.0", "--strict", input=data)
    assert r.exit_code == 3
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert recs[0]["labels"] == [] and recs[1]["error"] == "'text' is int, not a string"
    assert "1 of 2 rows could not be scored" in r.stderr and "scored 2 rows (1 errors)" in r.stderr
    r = _invoke("-", "--model", str(model_dir), "--label-threshold", "delegitimising=0", "--no-evidence",
                input=data)
    assert r.exit_code == 0
    assert json.loads(r.stdout.splitlines()[0])["labels"] == list(LABELS)
    r = _invoke("-", "--model", str(model_dir), "--label-threshold", "nope=0.5", input=data)
    assert r.exit_code == 1 and "unknown label(s) nope" in r.output


def test_progress_bar_only_when_asked(tmp_path: Path, model_dir: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a"}\n' * 10)
    r = _invoke(str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir), "--progress")
    assert r.exit_code == 0 and "rows/s" in r.stderr and "10/" not in r.stderr
    r = _invoke(str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir))
    assert "rows/s]" not in r.stderr and "scored 10 rows" in r.stderr  # stderr is not a TTY here
    r = _invoke(str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir), "--quiet", "--progress")
    assert r.stderr == ""


# ---- resume ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_resume_cuts_partial_csv_records(tmp_path: Path, det: Any, fmt: str) -> None:
    from framing.output import read_output
    from framing.score import OUTPUT_FIELDS, ScoreOptions, score_file

    src, full = tmp_path / "in.csv", tmp_path / f"full.{fmt}"
    rows = [{"id": f"x{i}", "text": f"line {i}\nrats \"quoted\", {i}\r\nend", "note": f"n{i}"} for i in range(40)]
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["id", "text", "note"])
        w.writeheader()
        w.writerows(rows)
    opts = ScoreOptions(id_field="id", keep_fields=("text", "note"), batch_size=4, chunk_batches=2, evidence=False)
    score_file(det, str(src), str(full), opts)
    cols = (*OUTPUT_FIELDS, "text", "note")
    want = list(read_output(str(full), fmt, cols, 40))
    assert [w["text"] for w in want] == [r["text"] for r in rows]
    data = full.read_bytes()
    cuts = [5, data.index(b"\n") + 1, data.index(b"line 7\n") + 7, data.index(b"n12") + 2, data.index(b"n30") + 5,
            len(data) - 1, len(data)]
    for cut in cuts:
        part = tmp_path / f"part.{fmt}"
        part.write_bytes(data[:cut])
        s = score_file(det, str(src), str(part), dataclasses.replace(opts, resume=True))
        assert s.rows == 40 and s.resumed <= 40
        _same(list(read_output(str(part), fmt, cols, 40)), want)
    other = tmp_path / f"other.{fmt}"
    other.write_bytes(data.replace(b"note", b"memo", 1))
    with pytest.raises(ValueError, match="has columns"):
        score_file(det, str(src), str(other), dataclasses.replace(opts, resume=True))


def test_resume_refuses_foreign_output(tmp_path: Path, det: Any, model_dir: Path) -> None:
    from framing.score import ScoreOptions, score_file

    a, b, out = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "out.jsonl"
    a.write_text("".join(json.dumps({"id": f"a{i}", "text": "x"}) + "\n" for i in range(5)))
    b.write_text("".join(json.dumps({"id": f"b{i}", "text": "x"}) + "\n" for i in range(5)))
    score_file(det, str(a), str(out), ScoreOptions(id_field="id"))
    before = out.read_bytes()
    with pytest.raises(ValueError, match="not from this input"):
        score_file(det, str(b), str(out), ScoreOptions(id_field="id", resume=True))
    assert out.read_bytes() == before and not (tmp_path / "out.jsonl.partial").exists()
    r = _invoke(str(a), "-o", str(tmp_path / "o.parquet"), "--model", str(model_dir), "-q")
    assert r.exit_code == 0
    r = _invoke(str(a), "-o", str(tmp_path / "o.parquet"), "--resume", "--model", str(model_dir))
    assert r.exit_code == 1 and "finished Parquet file" in r.output


def test_failed_run_is_atomic(tmp_path: Path, det: Any) -> None:
    from framing.score import ScoreOptions, score_file

    class Boom:
        labels = det.labels
        config = det.config
        calls = 0

        def detect_many(self, texts: list[str], batch_size: int = 32, evidence: bool = True) -> list:
            Boom.calls += 1
            if Boom.calls > 1:
                raise KeyboardInterrupt
            return det.detect_many(texts, batch_size=batch_size, evidence=evidence)

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"text": "a"}\n' * 50)
    out.write_text("previous result\n")
    with pytest.raises(KeyboardInterrupt):
        score_file(Boom(), str(src), str(out), ScoreOptions(batch_size=2, chunk_batches=2))
    assert out.read_text() == "previous result\n"  # readers of OUTPUT never see a half-written run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "out.jsonl.checkpoint",
                                                           "out.jsonl.partial"]
    assert len((tmp_path / "out.jsonl.partial").read_text().splitlines()) == 4  # the first chunk, checkpointed
    s = score_file(det, str(src), str(out), ScoreOptions(batch_size=2, chunk_batches=2))
    assert (s.rows, s.resumed) == (50, 4) and len(_jsonl(out)) == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_poisonous_text_costs_one_row(det: Any) -> None:
    from framing.score import ScoreOptions, score_rows

    class Picky:
        labels = det.labels
        config = det.config

        def detect_many(self, texts: list[str], batch_size: int = 32, evidence: bool = True) -> list:
            if "poison" in texts:
                raise RuntimeError("tokenizer exploded")
            return det.detect_many(texts, batch_size=batch_size, evidence=evidence)

    rows: list[Any] = [{"text": "a"}, {"text": "poison"}, {"text": "b"}, "nope"]
    out = list(score_rows(Picky(), rows, ScoreOptions()))
    assert [("error" in r) for r in out] == [False, True, False, True]
    assert out[1]["error"] == "scoring failed: RuntimeError: tokenizer exploded"
    assert out[3]["error"] == "not a record but str"


# ---- formats -----------------------------------------------------------------------------------------------
def test_csv_bom_newlines_quotes_round_trip(tmp_path: Path, model_dir: Path) -> None:
    rows = [["id", "text", "note", "extra"],
            ["1", 'he said "hi",\nthen left', "a,b", "x"],
            ["2", "暴徒\r\n勾结外国势力", '""quoted""', ""],
            ["3", "", "empty text", "tab\there"],
            ["4", "these people are rats", "multi\n\nline\n", "é"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    src = tmp_path / "in.csv"
    src.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode() + b'5,"bad \xff byte",z,z\r\n')
    want = [dict(zip(rows[0], r)) for r in rows[1:]]
    for fmt in ("csv", "tsv", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        r = _invoke(str(src), "-o", str(out), "--model", str(model_dir), "--keep-fields", "text,note,extra", "-q")
        assert r.exit_code == 0, r.output
        if fmt == "jsonl":
            got = _jsonl(out)
        else:
            with open(out, newline="", encoding="utf-8") as f:
                got = list(csv.DictReader(f, delimiter="," if fmt == "csv" else "\t"))
        assert len(got) == 5
        for g, w in zip(got, want):
            assert {k: g[k] for k in ("text", "note", "extra")} == {k: w[k] for k in ("text", "note", "extra")}
            assert str(g["id"]) == w["id"]
        assert "undecodable" in got[4]["error"] and str(got[4]["id"]) == "5"
        if fmt != "jsonl":
            assert json.loads(got[0]["labels"]) == ["dehumanising"] and set(json.loads(got[0]["scores"])) == set(LABELS)
            assert got[0]["error"] == "" and got[4]["labels"] == ""
    # the CSV output reads back as input
    r = _invoke(str(tmp_path / "out.csv"), "-o", str(tmp_path / "again.jsonl"), "--model", str(model_dir),
                "--keep-fields", "note", "--id-field", "id", "-q")
    assert r.exit_code == 0
    assert [x["note"] for x in _jsonl(tmp_path / "again.jsonl")][:4] == [w["note"] for w in want[:4]]


def test_parquet_in_and_out(tmp_path: Path, model_dir: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 300
    texts: list[Any] = [f"these people are rats {i}" for i in range(n)]
    texts[10], texts[20] = None, ""
    table = pa.table({"uid": pa.array(range(1000, 1000 + n), pa.int64()), "text": texts,
                      "score_in": pa.array([i / 10 for i in range(n)]), "big": ["x" * 100] * n})
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=64)
    out = tmp_path / "out.parquet"
    r = _invoke(str(src), "-o", str(out), "--model", str(model_dir), "--id-field", "uid", "--keep-fields", "score_in",
                "-q", "--batch-size", "16")
    assert r.exit_code == 0, r.output
    t = pq.read_table(out)
    assert t.schema.field("id").type == pa.int64() and t.schema.field("score_in").type == pa.float64()
    assert t.schema.field("scores").type == pa.struct([(lab, pa.float64()) for lab in LABELS])
    got = t.to_pylist()
    assert [g["id"] for g in got] == list(range(1000, 1000 + n))
    assert got[10]["error"] == "'text' is null" and got[10]["scores"] is None
    assert got[20]["labels"] == [] and got[5]["labels"] == ["dehumanising"] and got[5]["score_in"] == 0.5
    assert got[5]["evidence"] and got[5]["evidence"][0]["label"] == "dehumanising"
    r = _invoke(str(out), "-o", str(tmp_path / "back.csv"), "--model", str(model_dir), "--text-field", "language",
                "--keep-fields", "score_in", "-q")
    assert r.exit_code == 0, r.output
    # JSONL -> Parquet: ids and non-string kept values become strings
    j = tmp_path / "in.jsonl"
    j.write_text('{"id": 7, "text": "a", "meta": {"k": 1}}\n{"id": "x", "text": "b", "meta": null}\n')
    r = _invoke(str(j), "-o", str(tmp_path / "j.parquet"), "--model", str(model_dir), "--id-field", "id",
                "--keep-fields", "meta", "-q")
    assert r.exit_code == 0, r.output
    got = pq.read_table(tmp_path / "j.parquet").to_pylist()
    assert [g["id"] for g in got] == ["7", "x"] and [g["meta"] for g in got] == ['{"k": 1}', None]


def test_clear_errors(tmp_path: Path, model_dir: Path) -> None:
    m = ["--model", str(model_dir)]
    r = _invoke(str(tmp_path / "missing.jsonl"), *m)
    assert r.exit_code == 1 and "input file not found" in r.output
    (tmp_path / "x.txt").write_text("hello\n")
    r = _invoke(str(tmp_path / "x.txt"), *m)
    assert r.exit_code == 1 and "unknown format" in r.output and "--format" in r.output
    r = _invoke(str(tmp_path / "x.txt"), "--format", "jsonl", "-o", str(tmp_path / "o.xlsx"), *m)
    assert r.exit_code == 1 and "--output-format" in r.output
    (tmp_path / "c.csv").write_text("body,author\nhi,me\n")
    r = _invoke(str(tmp_path / "c.csv"), *m)
    assert r.exit_code == 1 and "no text column 'text'" in r.output and "columns: body, author" in r.output
    r = _invoke(str(tmp_path / "c.csv"), "--text-field", "body", "--keep-fields", "nope", *m)
    assert r.exit_code == 1 and "--keep-fields: no column 'nope'" in r.output
    (tmp_path / "j.jsonl").write_text('{"body": "hi", "user": 1}\n')
    r = _invoke(str(tmp_path / "j.jsonl"), *m)
    assert r.exit_code == 1 and "no text field 'text'" in r.output and "body, user" in r.output
    r = _invoke(str(tmp_path / "j.jsonl"), "--text-field", "body", "--keep-fields", "scores", *m)
    assert r.exit_code == 1 and "output fields" in r.output
    r = _invoke(str(tmp_path / "j.jsonl"), "--text-field", "body", "--group-by", "user", *m)
    assert r.exit_code == 1 and "--report" in r.output
    r = _invoke(str(tmp_path / "j.jsonl"), "--text-field", "body", "-o", str(tmp_path / "j.jsonl"), *m)
    assert r.exit_code == 1 and "OUTPUT is the INPUT" in r.output
    r = _invoke(str(tmp_path / "j.jsonl"), "--text-field", "body", "--model", str(tmp_path))
    assert r.exit_code == 1 and "not a framing model" in r.output


def test_missing_default_model_suggests_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import framing.default

    monkeypatch.setattr(framing.default, "default_model_dir", lambda: tmp_path / "nowhere")
    (tmp_path / "j.jsonl").write_text('{"text": "hi"}\n')
    r = _invoke(str(tmp_path / "j.jsonl"))
    assert r.exit_code == 1 and "no bundled default model" in r.output and "--model" in r.output


# ---- report ------------------------------------------------------------------------------------------------
def test_group_report(tmp_path: Path, model_dir: Path) -> None:
    src = tmp_path / "in.jsonl"
    rows = ([{"text": "these people are rats", "lang": "en", "ts": f"2020-01-0{d}T10:00:00Z"} for d in (3, 1, 2)]
            + [{"text": "", "lang": "en", "ts": "2019-12-31"}]
            + [{"text": "暴徒勾结外国势力", "lang": "zh", "ts": 1577000000 + k} for k in range(2)]
            + [{"text": None, "lang": "zh"}, {"text": "ok"}])
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    for ext in ("json", "csv"):
        rep = tmp_path / f"report.{ext}"
        r = _invoke(str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir), "--group-by", "lang",
                    "--time-field", "ts", "--report", str(rep))
        assert r.exit_code == 0, r.output
        assert "report: 3 groups" in r.stderr
    got = json.loads((tmp_path / "report.json").read_text())
    assert [g["group"] for g in got] == ["zh", "(missing)", "en"]  # by rate of any label desc, then rows desc
    zh, en = got[0], got[2]
    assert (zh["rows"], zh["errors"], zh["scored"], zh["label_rows"]["dehumanising"]) == (3, 1, 2, 2)
    assert zh["rates"] == {"dehumanising": 1.0, "delegitimising": 0.0} and zh["first"] == 1577000000
    assert (en["rows"], en["any_rows"], en["rates"]["dehumanising"]) == (4, 3, 0.75)
    assert en["first"] == "2019-12-31" and en["last"] == "2020-01-03T10:00:00Z"
    assert en["top_terms"] and en["top_terms"][0][1] >= 3  # evidence terms are counted
    with open(tmp_path / "report.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [t["group"] for t in table] == ["zh", "(missing)", "en"] and table[2]["rate_dehumanising"] == "0.75"


def test_report_after_resume_equals_full_run(tmp_path: Path, det: Any) -> None:
    from framing.score import ScoreOptions, score_file

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": "rats" if i % 3 else "", "g": f"g{i % 4}"}) + "\n"
                           for i in range(60)))
    full = score_file(det, str(src), str(tmp_path / "full.jsonl"),
                      ScoreOptions(group_by="g", report=str(tmp_path / "r1.json"), batch_size=4, chunk_batches=2))
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join((tmp_path / "full.jsonl").read_bytes().splitlines(keepends=True)[:23]))
    res = score_file(det, str(src), str(part), ScoreOptions(group_by="g", report=str(tmp_path / "r2.json"),
                                                            resume=True, batch_size=4))
    assert res.resumed == 23 and (res.rows, res.errors, res.label_counts) == (full.rows, full.errors, full.label_counts)
    assert json.loads((tmp_path / "r1.json").read_text()) == json.loads((tmp_path / "r2.json").read_text())


def test_time_key_orders_mixed_timestamps() -> None:
    from framing.io import time_key

    vals = ["Wed Oct 10 20:19:24 +0000 2018", "2018-10-10T20:19:25Z", 1539202766, "1539202766.5",
            "2018-10-10 20:19:27+00:00"]
    assert sorted(reversed(vals), key=time_key) == vals  # type: ignore[arg-type]
    assert time_key(None) is None and time_key("") is None and time_key("soon") == (1, "soon")
