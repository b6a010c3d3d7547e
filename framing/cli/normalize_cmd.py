"""``framing normalize``: print the normalised text, or JSON with language, tokens and offsets."""
from __future__ import annotations

import json

import click

from ._util import clean_errors, read_text_arg


@click.command("normalize")
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: text, language, tokens and offsets.")
@click.option("--script", type=click.Choice(["zh-Hans", "zh-Hant", "keep"]), default="zh-Hans", show_default=True,
              help="Target Chinese script.")
@click.option("--no-deobfuscate", is_flag=True, help="Keep separators, leetspeak and repeated letters.")
@click.option("--no-hk-map", is_flag=True, help="Keep Hong Kong characters (曱甴 ...) as they are.")
@click.option("--placeholders", is_flag=True, help="Replace URLs and @mentions, unwrap #hashtags.")
@clean_errors
def normalize_cmd(text: str | None, as_json: bool, script: str, no_deobfuscate: bool, no_hk_map: bool,
                  placeholders: bool) -> None:
    """Normalise TEXT (or standard input with '-') and print it.

    Each character of the output maps back to the span of the input it came
    from; --json prints that map as "offsets" ([start, end] per character).
    """
    from ..langid import detect_language
    from ..normalizer import NormalizeConfig, normalize
    from ..segmenter import segment_normalized

    raw = read_text_arg(text)
    cfg = NormalizeConfig(script=script, deobfuscate=not no_deobfuscate,  # type: ignore[arg-type]
                          map_hk_chars=not no_hk_map, placeholders=placeholders)
    norm = normalize(raw.rstrip("\n") if text in (None, "-") else raw, cfg)
    if not as_json:
        click.echo(norm.text)
        return
    lang = detect_language(norm.original)
    out = {
        "text": norm.text,
        "original": norm.original,
        "language": lang.to_dict(),
        "tokens": [t.to_dict() for t in segment_normalized(norm)],
        "offsets": norm.spans(),
        "config": cfg.to_dict(),
    }
    click.echo(json.dumps(out, ensure_ascii=False))
