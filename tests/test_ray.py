"""Ray Data integration: the actor class on its own (tiny model), and a local 2-CPU Ray run (real model, slow)
that must give the same records as the single-process ``framing score`` on the same rows."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from framing.integrations.ray import RayScorer
from framing.score import ScoreOptions, score_file, score_rows

from .test_score import det, model_dir  # noqa: F401 - fixtures: tiny model with fixed thresholds

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_ray_scorer_batches_match_score_rows(model_dir: Path, det: Any) -> None:  # noqa: F811
    import pandas as pd
    import pyarrow as pa

    recs = [{"id": "a", "text": "these people are rats"}, {"id": "b", "text": None},
            {"id": None, "text": "暴徒勾结外国势力"}, {"id": "e", "text": ""}, {"id": "f", "text": "今天天气很好"}]
    o = ScoreOptions(id_field="id", keep_fields=("id",), evidence=False)
    want = list(score_rows(det, recs, o))
    scorer = RayScorer(str(model_dir), o)
    for batch in (pa.Table.from_pylist(recs, schema=pa.schema([("id", pa.string()), ("text", pa.string())])),
                  pd.DataFrame({"id": ["a", "b"], "text": ["these people are rats", None]})):
        got = scorer(batch).to_pylist()
        assert len(got) == batch.num_rows if isinstance(batch, pa.Table) else len(batch)
        for g, w in zip(got, want):
            assert g["id"] == w["id"] and g["error"] == w.get("error")
            assert g["labels"] == w.get("labels")
            if w.get("scores"):
                assert g["scores"] == pytest.approx(w["scores"], abs=1e-6)
    # raw JSONL lines with their numbers, as read_jsonl_lines hands them over (blank lines never reach it)
    lines = [b'{"id": "a", "text": "rats"}', b"{bad", b"[1]", b'{"id": "z", "text": 7}',
             '\ufeff{"id": "bom", "text": "x"}'.encode("utf-8"), b"\xff\xfe", '{"text": "a\u2028b"}'.encode("utf-8")]
    numbers = [1, 3, 4, 5, 1, 7, 8]
    o = ScoreOptions(evidence=False)
    got = RayScorer(str(model_dir), o, raw_jsonl=True)(pa.table({"line": lines, "line_number": numbers})).to_pylist()
    assert [g["id"] for g in got] == numbers
    assert got[0]["error"] is None and got[6]["error"] is None and got[6]["labels"] is not None
    assert got[1]["error"].startswith("invalid JSON") and got[2]["error"].startswith("not a JSON object")
    assert got[3]["error"] == "'text' is int, not a string"
    assert got[4]["error"] is None and got[5]["error"].startswith("undecodable bytes")


def test_read_jsonl_lines(tmp_path: Path) -> None:
    import ray

    from framing.integrations.ray import read_jsonl_lines

    body = b'{"a": 1}\n\n  \n{"b": "x\xe2\x80\xa8y \xe6\x9a\xb4"}\r\n\xff\n' + b'{"c": 3}\n' * 20000 + b'{"d": 4}'
    (tmp_path / "x.jsonl").write_bytes(body)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        got = read_jsonl_lines(ray, str(tmp_path / "x.jsonl"), block_lines=5000).take_all()
    finally:
        ray.shutdown()
    assert [r["line_number"] for r in got] == [1, 4, 5, *range(6, 20006), 20006]
    assert got[1]["line"] == b'{"b": "x\xe2\x80\xa8y \xe6\x9a\xb4"}\r' and got[2]["line"] == b"\xff"
    assert got[-1]["line"] == b'{"d": 4}'


def _rows(n: int) -> list[str]:
    """``n`` real texts (hk_io tweets and LIHKG posts) as JSONL lines, with bad rows injected."""
    texts: list[str] = []
    for name in ("hk_io", "lihkg"):
        with open(SHARED / name / "pool.jsonl", encoding="utf-8") as f:
            texts += [json.loads(line)["text"][:160] for line in f]
    rng = random.Random(7)
    rng.shuffle(texts)
    lines = [json.dumps({"id": f"r{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(texts[:n])]
    bad = ["{not json", '{"id": "n1", "text": null}', '{"id": "n2", "text": 42}', '{"id": "n3"}', "[]", "",
           '{"id": "n4", "text": ""}']
    for k, b in enumerate(bad * 5):
        lines.insert(rng.randrange(len(lines)), b.replace('"n', f'"n{k}_') if '"n' in b else b)
    return lines


@pytest.mark.slow
def test_local_ray_matches_single_process(tmp_path: Path) -> None:
    import ray

    if not (SHARED / "hk_io" / "pool.jsonl").exists():
        pytest.fail(f"needs the shared data at {SHARED}")
    from framing.integrations.ray import score_file_ray

    src = tmp_path / "in.jsonl"
    lines = _rows(5000)
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_records = sum(1 for line in lines if line.strip())
    o = ScoreOptions(id_field="id", evidence=False)
    single = score_file(lambda: __import__("framing.detector", fromlist=["Detector"]).Detector.from_pretrained(
        _default()), str(src), str(tmp_path / "single.jsonl"), o)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        dist = score_file_ray(None, str(src), str(tmp_path / "ray.jsonl"), o, num_workers=2)
    finally:
        ray.shutdown()
    a = [json.loads(x) for x in (tmp_path / "single.jsonl").read_text(encoding="utf-8").splitlines()]
    b = [json.loads(x) for x in (tmp_path / "ray.jsonl").read_text(encoding="utf-8").splitlines()]
    assert single.rows == dist.rows == len(a) == len(b) == n_records  # no row lost, none invented
    assert single.errors == dist.errors == 5 * 5  # 5 x (bad JSON, null, int, no text, a list)
    ids = [r["id"] for r in a if r["id"] is not None]
    assert sorted(ids) == sorted(r["id"] for r in b if r["id"] is not None)  # order-independent coverage
    assert len(set(ids)) == len(ids)
    diff = 0.0
    for x, y in zip(a, b):  # Ray keeps input order, so records pair up one to one
        assert x.keys() == y.keys() and x["id"] == y["id"] and x.get("error") == y.get("error"), (x, y)
        assert x.get("labels") == y.get("labels"), (x, y)
        if "scores" in x:
            diff = max(diff, *(abs(x["scores"][k] - y["scores"][k]) for k in x["scores"]))
    assert diff < 1e-4
    print(f"\n{single.rows} rows: single process {single.rows_per_second:.0f} rows/s, "
          f"local Ray with 2 workers {dist.rows_per_second:.0f} rows/s")


def _default() -> str:
    from framing.default import default_model_dir

    return str(default_model_dir())


def test_engine_ray_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from framing.cli import cli

    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray", "--resume"])
    assert r.exit_code == 1 and "--engine ray does not support --resume" in r.output
    r = CliRunner().invoke(cli, ["score", str(src), "--engine", "ray"])
    assert r.exit_code == 1 and "not standard streams" in r.output
    r = CliRunner().invoke(cli, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray",
                                 "--num-workers", "0"])
    assert r.exit_code == 1 and "--num-workers must be at least 1" in r.output
    r = CliRunner().invoke(cli, ["score", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray",
                                 "--model", str(tmp_path)])
    assert r.exit_code == 1 and "not a framing model directory" in r.output
    r = CliRunner().invoke(cli, ["score", str(src), "--num-workers", "2"])
    assert r.exit_code == 2 and "need --engine ray" in r.output
    assert os.listdir(tmp_path) == ["in.jsonl"]


@pytest.mark.slow
def test_ray_csv_and_parquet_match_single_process(model_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    """CSV (quoted newlines, empty and numeric-looking cells) and Parquet through Ray Data: same records."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    from framing.detector import Detector
    from framing.integrations.ray import score_file_ray

    rng = random.Random(3)
    words = "these people are rats 暴徒 勾结 外国 势力 today 今天 天气 0042".split()
    recs = [{"id": f"{i:05d}", "text": " ".join(rng.choice(words) for _ in range(rng.randint(0, 12))),
             "grp": str(i % 3)} for i in range(600)]
    recs[10]["text"] = "line one\nline two, with a comma"
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "grp"])
        w.writeheader()
        w.writerows(recs)
    table = pa.Table.from_pylist(recs)
    table = table.set_column(1, "text", pa.array([None if i % 97 == 5 else r["text"] for i, r in enumerate(recs)]))
    pq.write_table(table, tmp_path / "in.parquet")
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)  # 2 actors + 1 for Parquet planning
    try:
        for name, opts in (("in.csv", ScoreOptions(keep_fields=("grp",))),
                           ("in.parquet", ScoreOptions(id_field="id", keep_fields=("grp",)))):
            for out_name in ("single.jsonl", "ray.jsonl", "ray.parquet"):
                (tmp_path / out_name).unlink(missing_ok=True)
            src = str(tmp_path / name)
            single = score_file(lambda: Detector.from_pretrained(model_dir), src, str(tmp_path / "single.jsonl"),
                                opts)
            dist = score_file_ray(str(model_dir), src, str(tmp_path / "ray.jsonl"), opts, num_workers=2)
            a = (tmp_path / "single.jsonl").read_text(encoding="utf-8").splitlines()
            b = (tmp_path / "ray.jsonl").read_text(encoding="utf-8").splitlines()
            assert single.rows == dist.rows == len(a) == len(b) == 600 and single.errors == dist.errors
            for x, y in zip(map(json.loads, a), map(json.loads, b)):
                assert x.keys() == y.keys() and x["id"] == y["id"] and x.get("labels") == y.get("labels")
                assert x["grp"] == y["grp"] and x.get("error") == y.get("error")
            score_file_ray(str(model_dir), src, str(tmp_path / "ray.parquet"), opts, num_workers=2)
            assert pq.read_table(tmp_path / "ray.parquet").num_rows == 600
        assert single.errors == len(range(5, 600, 97))  # the null texts of the Parquet input
    finally:
        ray.shutdown()


def test_ray_directory_output_is_written_by_the_workers(model_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    """-o DIR/: part files from the actors, a manifest in input order, _SUCCESS; same records as a file run."""
    import pyarrow.parquet as pq
    import ray

    from framing.integrations.ray import score_file_ray

    rng = random.Random(5)
    lines = [json.dumps({"id": f"r{i}", "text": " ".join(rng.choice(["rats", "暴徒", "today"]) for _ in range(5))},
                        ensure_ascii=False) for i in range(700)]
    lines[3], lines[400] = "{bad", '{"id": "long", "text": "' + "rats " * 400 + '"}'
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    o = ScoreOptions(evidence=False, batch_size=8, chunk_batches=25, max_chars=1000)  # 200-row batches
    want = [json.loads(x) for x in _score_to(tmp_path / "single.jsonl", model_dir, src, o)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for fmt in ("parquet", "jsonl"):
            out = tmp_path / f"out_{fmt}"
            opts = ScoreOptions(**{**o.__dict__, "output_format": fmt})
            s = score_file_ray(str(model_dir), str(src), f"{out}/", opts, num_workers=2)
            man = json.loads((out / "_manifest.json").read_text())
            assert (out / "_SUCCESS").exists() and man["format"] == fmt
            assert s.rows == man["rows"] == sum(p["rows"] for p in man["parts"]) == 700
            assert s.errors == man["errors"] == 1 and s.truncated == man["truncated"] == 1
            assert sorted(os.listdir(out)) == sorted(["_SUCCESS", "_manifest.json", *(p["file"] for p in man["parts"])])
            assert len(man["parts"]) >= 4 and [p["file"] for p in man["parts"]] == sorted(p["file"] for p in man["parts"])
            got: list[dict] = []
            for p in man["parts"]:
                if fmt == "parquet":
                    from framing.output import record_from_row

                    got += [record_from_row(r) for r in pq.read_table(out / p["file"]).to_pylist()]
                else:
                    got += [json.loads(x) for x in (out / p["file"]).read_text(encoding="utf-8").splitlines()]
            assert [g["id"] for g in got] == [w["id"] for w in want]
            for g, w in zip(got, want):
                assert g.keys() == w.keys() and g.get("labels") == w.get("labels") and g.get("error") == w.get("error")
            with pytest.raises(ValueError, match="--overwrite"):
                score_file_ray(str(model_dir), str(src), f"{out}/", opts, num_workers=2)
        s = score_file_ray(str(model_dir), str(src), str(tmp_path / "out_jsonl"),
                           ScoreOptions(**{**o.__dict__, "output_format": "jsonl", "overwrite": True}), num_workers=1)
        assert s.rows == 700 and (tmp_path / "out_jsonl" / "_SUCCESS").exists()
    finally:
        ray.shutdown()


def _score_to(out: Path, model_dir: Path, src: Path, o: ScoreOptions) -> list[str]:
    from framing.detector import Detector

    score_file(lambda: Detector.from_pretrained(model_dir), str(src), str(out), o)
    return out.read_text(encoding="utf-8").splitlines()
