"""framing report: sections, numbers, escaping, formats, bounded state, errors (no model needed but for one test)."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from framing.cli import cli

from .app_helpers import Elements

HOSTILE = '<script>document.title="PWNED"</script>"onerror=alert(1) x=" \u202eevil\u202c \u200bzw\u200d <img src=x onerror=alert(2)>'


def rec(i: int, text: str, labels: list[str], ev: list[tuple[str, str]] = (), *, author: str = "a", lang: str = "en",
        date: str = "2019-08-01", **extra: Any) -> dict[str, Any]:
    """A scored record as framing score writes it; ``ev`` = (label, surface) spans found in ``text``."""
    evidence = []
    for lab, surface in ev:
        s = text.index(surface)
        evidence.append({"label": lab, "start": s, "end": s + len(surface), "surface": surface, "source": "lexicon",
                         "term": surface.lower(), "weight": None})
    scores = {"dehumanising": 0.9 if "dehumanising" in labels else 0.1,
              "delegitimising": 0.8 if "delegitimising" in labels else 0.2}
    return {"id": i, "labels": labels, "scores": scores, "language": lang, "evidence": evidence, "error": None,
            "author": author, "date": date, "text": text, **extra}


def write_jsonl(path: Path, recs: list[dict[str, Any]], extra_lines: list[str] = ()) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs) + "".join(extra_lines),
                    encoding="utf-8")
    return path


def corpus() -> list[dict[str, Any]]:
    recs = []
    for i in range(30):  # account "big": 30 posts, 6 dehumanising
        lab = ["dehumanising"] if i % 5 == 0 else []
        recs.append(rec(len(recs) + 1, "these rats must go" if lab else "nice weather", lab,
                        [("dehumanising", "rats")] if lab else [], author="big", date=f"2019-08-{1 + i % 28:02d}"))
    for i in range(2):  # account "tiny": 2 posts, both dehumanising: top rate only without min support
        recs.append(rec(len(recs) + 1, "呢班曱甴", ["dehumanising"], [("dehumanising", "曱甴")], author="tiny", lang="yue",
                        date="2019-08-03"))
    for i in range(25):  # account "zh": 25 posts, 5 delegitimising
        lab = ["delegitimising"] if i < 5 else []
        recs.append(rec(len(recs) + 1, "外国势力操控暴徒" if lab else "今天天气很好", lab,
                        [("delegitimising", "外国势力")] if lab else [], author="zh", lang="zh-Hans",
                        date=f"2019-08-{1 + i:02d}T10:00:00"))
    recs.append({"id": len(recs) + 1, "error": "'text' is null", "author": "big"})
    return recs


def build(tmp_path: Path, recs: list[dict[str, Any]], *args: str, extra_lines: list[str] = ()) -> tuple[Any, str]:
    src = write_jsonl(tmp_path / "scored.jsonl", recs, extra_lines)
    out = tmp_path / "report.html"
    r = CliRunner().invoke(cli, ["report", str(src), "-o", str(out), *args])
    assert r.exit_code == 0, r.output
    return r, out.read_text(encoding="utf-8")


def test_sections_and_numbers(tmp_path: Path) -> None:
    r, html = build(tmp_path, corpus(), "--group-by", "author", "--time-field", "date", "--min-support", "10",
                    "--examples", "3", extra_lines=["{not json\n"])
    assert "written to" in r.output and "59 records (2 not scored" in r.output
    dom = Elements(html)
    assert not dom.find("script")
    assert {e.attrs["id"] for e in dom.find("h2")} == {"read", "totals", "groups", "time", "terms", "examples"}
    rows = {tuple(c.text for c in _cells(dom, tr)) for tr in dom.find("tr")}
    # language x label: en 30 scored, 6 dehumanising (20.00%); yue 2 of 2; zh-Hans 5 of 25 delegitimising
    assert ("en", "30", "6", "6", "20.00%", "0.900", "0", "0.00%", "") in rows
    assert ("yue", "2", "2", "2", "100.00%", "0.900", "0", "0.00%", "") in rows
    assert ("zh-Hans", "25", "5", "0", "0.00%", "", "5", "20.00%", "0.800") in rows
    # by rate with min support 10: "tiny" (2 of 2) is left out, "big" ranks; by count "tiny" is there
    groups = html.split('id="groups"')[1].split('id="time"')[0]
    by_rate, by_count = groups.split("By count")[0], groups.split("By count")[1].split("<h3>")[0]
    assert "<bdi>big</bdi></td><td class=\"n\">30</td><td class=\"n\">6</td><td class=\"n\">20.0%" in by_rate
    assert "<bdi>tiny</bdi>" not in by_rate and "<bdi>tiny</bdi>" in by_count
    assert "one point per day" in html and "2019-08-01 to 2019-08-28" in html
    assert [i.attrs["src"][:26] for i in dom.find("img")] == ["data:image/svg+xml;base64,"] * 2
    assert "Not present: these records carry no sub-types" in html
    # examples: highlighted spans are exactly the evidence surfaces, in each script
    marks = {(m.attrs["data-label"], m.text) for m in dom.find("mark")}
    assert marks == {("dehumanising", "rats"), ("dehumanising", "曱甴"), ("delegitimising", "外国势力")}
    assert len(dom.find("div", class_="example")) == 6  # 3 per label
    assert "invalid JSON" in html  # the unreadable line is counted with its reason


def _cells(dom: Elements, tr: Any) -> list[Any]:
    i = dom.all.index(tr)
    out = []
    for e in dom.all[i + 1:]:
        if e.tag == "tr" or e.tag == "table":
            break
        if e.tag in ("td", "th"):
            out.append(e)
    return out


def test_hostile_text_is_escaped_and_kept_exactly(tmp_path: Path) -> None:
    text = f"{HOSTILE} rats"
    recs = [rec(1, text, ["dehumanising"], [("dehumanising", "<script>"), ("dehumanising", "rats")],
                author='<b onmouseover="x()">\u202eacct', date="2019-08-01")]
    _, html = build(tmp_path, recs, "--group-by", "author", "--min-support", "1")
    dom = Elements(html)
    assert not dom.find("script") and not [e for e in dom.all if e.tag == "b"]
    assert not [e for e in dom.all for k in e.attrs if k.startswith("on")]
    assert [i.attrs["src"][:5] for i in dom.find("img")] == ["data:"]  # only the chart; the text's <img> is text
    (ex,) = dom.find("div", class_="text")
    assert ex.text == text  # every character kept, RTL and zero-width marks included
    assert [m.text for m in dom.find("mark")] == ["<script>", "rats"]
    assert any(e.text == '<b onmouseover="x()">\u202eacct' for e in dom.find("bdi"))  # isolated from its neighbours


def test_subtypes_are_shown_when_records_have_them(tmp_path: Path) -> None:
    recs = corpus()[:10]
    recs[0]["subtypes"] = {"dehumanising": ["vermin"]}
    recs[0]["evidence"][0]["subtype"] = "vermin"
    _, html = build(tmp_path, recs)
    assert "Not present" not in html
    assert "<td><bdi>dehumanising</bdi></td><td><bdi>vermin</bdi></td><td class=\"n\">1</td><td><bdi>rats</bdi> (1)" in html
    recs[0]["subtypes"] = {"dehumanising": {"animal": 0.91}}  # what Detection.to_dict writes
    recs[0]["evidence"][0]["subtype"] = "animal"
    (tmp_path / "2").mkdir()
    _, html = build(tmp_path / "2", recs)
    assert "<td><bdi>dehumanising</bdi></td><td><bdi>animal</bdi></td><td class=\"n\">1</td>" in html


def test_no_text_group_or_time_fields_say_so(tmp_path: Path) -> None:
    recs = [{k: v for k, v in r.items() if k not in ("text", "author", "date")} for r in corpus()]
    _, html = build(tmp_path, recs, "--group-by", "author", "--time-field", "date")
    assert "No record has a value in field <bdi>author</bdi>" in html
    assert "No date could be read from field <bdi>date</bdi>" in html
    assert "The records have no <bdi>text</bdi> field" in html
    assert Elements(html).find("mark", **{"data-label": "dehumanising"})  # the evidence surfaces are still shown


def test_csv_and_parquet_output_of_framing_score(tmp_path: Path) -> None:
    """The real pipeline with the tiny model: score to CSV and Parquet, report both, same numbers."""
    from .app_helpers import tiny_model

    model = tiny_model(tmp_path / "m")
    src = tmp_path / "posts.jsonl"
    rng = random.Random(0)
    posts = [{"text": rng.choice(["these rats", "呢班曱甴", "外国势力", "hello"]), "author": f"u{i % 4}",
              "date": f"2020-01-{1 + i % 20:02d}"} for i in range(40)]
    src.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    pages = []
    for ext in ("csv", "parquet"):
        out = tmp_path / f"scored.{ext}"
        r = CliRunner().invoke(cli, ["score", str(src), "-o", str(out), "-m", str(model), "--keep-fields",
                                     "author,date,text", "-q"])
        assert r.exit_code == 0, r.output
        rep = tmp_path / f"{ext}.html"
        r = CliRunner().invoke(cli, ["report", str(out), "-o", str(rep), "-m", str(model), "--group-by", "author",
                                     "--time-field", "date", "--min-support", "5", "-q"])
        assert r.exit_code == 0, r.output
        html = rep.read_text(encoding="utf-8")
        assert "40 records in" in html and "40 scored" in html and "model@" in html
        pages.append(html.split('id="totals"')[1].split('id="terms"')[0])
    assert pages[0] == pages[1]


def test_progress_bar_on_stderr(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "s.jsonl", corpus())
    r = CliRunner().invoke(cli, ["report", str(src), "-o", str(tmp_path / "r.html"), "--progress"])
    assert r.exit_code == 0 and "report: " in r.stderr and "rows" in r.stderr


@pytest.mark.parametrize("case", ["not_scored", "empty", "not_html", "missing_column", "bad_option"])
def test_bad_input_is_a_clear_error_and_leaves_output_alone(tmp_path: Path, case: str) -> None:
    out = tmp_path / "r.html"
    out.write_text("old", encoding="utf-8")
    args = []
    if case == "not_scored":
        src = write_jsonl(tmp_path / "posts.jsonl", [{"text": "hello"}])
        want = "is not `framing score` output"
    elif case == "empty":
        src = write_jsonl(tmp_path / "e.jsonl", [])
        want = "holds no records"
    elif case == "not_html":
        src, out = write_jsonl(tmp_path / "s.jsonl", corpus()), tmp_path / "r.pdf"
        want = "must end in .html"
    elif case == "missing_column":
        src = tmp_path / "s.csv"
        src.write_text("id,labels,scores,language,evidence,error\n1,[],{},en,[],\n", encoding="utf-8")
        args, want = ["--group-by", "author"], "--group-by: no column 'author'"
    else:
        src = write_jsonl(tmp_path / "s.jsonl", corpus())
        args, want = ["--min-support", "0"], "--min-support must be at least 1"
    r = CliRunner().invoke(cli, ["report", str(src), "-o", str(out), *args])
    assert r.exit_code == 1 and r.output.startswith("Error: ") and want in r.output, r.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == "old"
    assert not list(tmp_path.glob(".*.part"))


def test_state_stays_bounded_and_examples_are_sampled() -> None:
    """Many distinct terms, days and flagged posts: counters are capped, the sample keeps k items from all of them."""
    from framing.report.aggregate import MAX_TERMS, Aggregator

    agg = Aggregator(time_field="t", examples=4, seed=1)
    n = 3 * MAX_TERMS
    for i in range(n):
        agg.add({"id": i, "labels": ["dehumanising"], "scores": {"dehumanising": 0.9}, "language": "en",
                 "evidence": [{"label": "dehumanising", "start": 0, "end": 4, "surface": f"w{i:04d}"[:4],
                               "source": "lexicon", "term": f"term{i}"}], "t": 86400 * i, "text": f"w{i:04d}"})
    assert len(agg.terms["dehumanising"]) <= MAX_TERMS
    assert len(agg.reservoir["dehumanising"]) == 4 and agg.flagged_seen["dehumanising"] == n
    ids = sorted(ex.id for ex in agg.reservoir["dehumanising"])
    assert ids != [0, 1, 2, 3] and max(ids) >= 4  # not just the first k
    assert len(agg.days) == n


def test_build_is_importable_without_the_core_importing_it() -> None:
    import subprocess
    import sys

    code = ("import framing, framing.detector, framing.score, framing.cli, sys; "
            "print(any(m.startswith(('framing.report', 'framing.server', 'matplotlib', 'fastapi')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    assert out == "False"
