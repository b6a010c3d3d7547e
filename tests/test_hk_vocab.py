"""The Hong Kong character map leaves no <unk> for the real backbone's tokenizer (slow: rebuilds it)."""
from __future__ import annotations

import pytest

from framing.normalizer import HK_CHAR_MAP, NormalizeConfig, normalize


@pytest.mark.slow
@pytest.mark.parametrize("script", ["zh-Hans", "zh-Hant"])
def test_hk_characters_reach_the_model(script: str) -> None:
    from framing.backbone import load_backbone

    _, tok = load_backbone(use_hf_cache=False)
    raw = "".join(HK_CHAR_MAP)
    assert tok.unk_token_id in tok(raw)["input_ids"]  # the vocabulary really lacks them
    ids = tok(normalize(f"佢哋係{raw}", NormalizeConfig(script=script)).text)["input_ids"]
    assert tok.unk_token_id not in ids
