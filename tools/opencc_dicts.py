"""Export the OpenCC dictionaries framing converts with, as text, into framing/resources/opencc/.

framing pins its script conversion to these files instead of the installed
OpenCC's data, so a model's inputs do not change when OpenCC's dictionaries do,
and so that framing can merge each conversion group into one dictionary
(framing.script). The binary ``.ocd2`` files are dumped with the ``opencc_dict``
tool that the OpenCC wheel ships; the text is OpenCC's own, unchanged.

    python tools/opencc_dicts.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from importlib.metadata import distribution
from pathlib import Path

import opencc

from framing.script import DICTIONARIES

OUT = Path(__file__).resolve().parents[1] / "framing" / "resources" / "opencc"


def main() -> None:
    share = Path(opencc._opencc_share_dir)
    tool = Path(opencc.clib.__file__).parent / "bin" / "opencc_dict"
    if not tool.exists():
        raise SystemExit(f"opencc_dict not found at {tool}; install an OpenCC wheel that ships it")
    dist = distribution("opencc")
    licence = next((dist.locate_file(f) for f in dist.files or () if f.name == "LICENSE"), None)
    if licence is None:
        raise SystemExit("OpenCC's LICENSE is not in its installed distribution; it must travel with the data")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in DICTIONARIES:
            dumped = Path(tmp) / f"{name}.txt"
            subprocess.run([str(tool), "-i", str(share / f"{name}.ocd2"), "-o", str(dumped), "-f", "ocd2", "-t", "text"],
                           check=True)
            lines = dumped.read_text(encoding="utf-8").splitlines()
            body = "".join(f"{line}\n" for line in sorted(lines))
            tmp_out = OUT / f".{name}.txt.tmp"
            tmp_out.write_text(body, encoding="utf-8")
            os.replace(tmp_out, OUT / f"{name}.txt")
            print(f"{name}: {len(lines)} entries")
    shutil.copyfile(str(licence), OUT / "LICENSE")
    (OUT / "VERSION").write_text(f"{dist.version}\n", encoding="utf-8")
    print(f"from OpenCC {dist.version} into {OUT}")


if __name__ == "__main__":
    main()
