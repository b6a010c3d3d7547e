"""Script conversion on pinned, merged OpenCC dictionaries (framing.script)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framing import script
from framing.script import DICTIONARIES, GROUPS, build_hktw2s, merge_group, read_dictionary


def short_circuit(dicts: list[dict[str, str]], text: str) -> str:
    """OpenCC's group lookup, written out: at each position the first dictionary with a prefix match wins."""
    out, i = [], 0
    while i < len(text):
        for d in dicts:
            hits = [k for k in d if text.startswith(k, i)]
            if hits:
                k = max(hits, key=len)
                out.append(d[k])
                i += len(k)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def longest_match(d: dict[str, str], text: str) -> str:
    return short_circuit([d], text)


_keys = st.text(alphabet="abcd", min_size=1, max_size=3)
_dict = st.dictionaries(_keys, st.text(alphabet="XYZ", min_size=1, max_size=2), max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.lists(_dict, min_size=1, max_size=4), st.text(alphabet="abcde", max_size=20))
def test_merged_group_equals_short_circuit(dicts: list[dict[str, str]], text: str) -> None:
    merged = merge_group([list(d.items()) for d in dicts])
    assert longest_match(merged, text) == short_circuit(dicts, text)


def test_merge_drops_a_later_key_behind_an_earlier_prefix() -> None:
    merged = merge_group([[("ab", "1")], [("abc", "2"), ("b", "3"), ("ab", "4")]])
    assert merged == {"ab": "1", "b": "3"}


def test_every_dictionary_is_shipped() -> None:
    for name in DICTIONARIES:
        pairs = read_dictionary(name)
        assert pairs, name
        assert all(k and v for k, v in pairs), name
    assert (script.DICT_DIR / "LICENSE").exists()  # OpenCC's Apache-2.0 licence travels with its data


def test_missing_dictionary_says_how_to_rebuild(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(script, "DICT_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="tools/opencc_dicts.py"):
        read_dictionary("TSCharacters")


def test_conversion() -> None:
    cc = build_hktw2s()
    assert cc.convert("裏面 乾淨 臺灣 衞生 這些廢青") == "里面 干净 台湾 卫生 这些废青"
    assert build_hktw2s([("曱", "蟑"), ("甴", "螂")]).convert("曱甴") == "蟑螂"


def test_same_output_as_installed_opencc_groups(data_dir: Path) -> None:
    """framing's merged run equals OpenCC's own hk2s chain with the TW variants added, on real text."""
    import opencc

    version = (script.DICT_DIR / "VERSION").read_text(encoding="utf-8").strip()
    from importlib.metadata import version as installed

    if installed("opencc") != version:
        pytest.skip(f"dictionaries exported from OpenCC {version}, installed {installed('opencc')}")
    share = opencc._opencc_share_dir
    with open(os.path.join(share, "hk2s.json"), encoding="utf-8") as fh:
        cfg = json.load(fh)
    cfg["conversion_chain"][0]["dict"]["dicts"] += [
        {"type": "ocd2", "file": "TWVariantsRevPhrases.ocd2"}, {"type": "ocd2", "file": "TWVariantsRev.ocd2"}]
    assert [[d["file"][:-5] for d in step["dict"]["dicts"]] for step in cfg["conversion_chain"]] == [
        list(g) for g in GROUPS]
    texts = []
    for folder in ("lihkg", "hk_io"):
        with open(data_dir / folder / "pool.jsonl", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh]
    keys = [k for name in DICTIONARIES for k, _ in read_dictionary(name)]
    texts += ["".join(keys[i:i + 7]) for i in range(0, len(keys), 7)]  # every key, next to others
    reference = _reference(share, cfg)
    ours = build_hktw2s()
    differ = [t for t in texts if ours.convert(t) != reference.convert(t)]
    print(f"\n{len(texts)} texts, {len(differ)} differ")
    assert not differ, differ[:5]


def _reference(share: str, cfg: dict) -> object:  # type: ignore[type-arg]
    import tempfile

    import opencc

    def absolute(obj: object) -> None:
        if isinstance(obj, dict):
            if "file" in obj:
                obj["file"] = os.path.join(share, obj["file"])
            for v in obj.values():
                absolute(v)
        elif isinstance(obj, list):
            for v in obj:
                absolute(v)

    absolute(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "reference.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(cfg, fh)
        return opencc.OpenCC(path)
