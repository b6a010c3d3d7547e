"""framing.encoder: the plain-torch BERT and the tokenizers-only tokenizer must equal transformers' to float precision."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from framing.encoder import BertEncoder, FastTokenizer, load_fast_encoder, supports_fast_path
from tests.tiny import make_tiny_backbone

TEXTS = ["这些废青就是一群蟑螂", "abc def, ghi!", "香港人 示威者 and police 黑警狗", "a", "x" * 300]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_backbone(tmp_path_factory.mktemp("enc") / "tiny")


def test_tokenizer_matches_transformers(tiny: Path) -> None:
    from transformers import AutoTokenizer

    ours, ref = FastTokenizer(tiny), AutoTokenizer.from_pretrained(str(tiny))
    for name in ("cls_token_id", "sep_token_id", "pad_token_id"):
        assert getattr(ours, name) == getattr(ref, name) is not None
    for t in TEXTS:
        assert ours(t, add_special_tokens=False)["input_ids"] == ref(t, add_special_tokens=False)["input_ids"]
        a = ours(t, return_offsets_mapping=True, truncation=True, max_length=12, return_tensors="pt")
        b = ref(t, return_offsets_mapping=True, truncation=True, max_length=12, return_tensors="pt")
        for k in ("input_ids", "attention_mask", "offset_mapping"):
            assert torch.equal(a[k], b[k]), (t, k)
    with pytest.raises(ValueError, match="return_tensors"):
        ours("abc", return_tensors="np")


def test_encoder_matches_bert_model(tiny: Path) -> None:
    from transformers import BertModel

    ref = BertModel.from_pretrained(str(tiny), add_pooling_layer=False).eval()
    ours = load_fast_encoder(tiny)
    assert isinstance(ours, BertEncoder) and ours.config.hidden_size == ref.config.hidden_size
    tok = FastTokenizer(tiny)
    rows = [tok(t, truncation=True, max_length=40)["input_ids"] for t in TEXTS]
    width = max(map(len, rows))
    ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.inference_mode():
        a = ours(input_ids=ids, attention_mask=mask).last_hidden_state
        b = ref(input_ids=ids, attention_mask=mask).last_hidden_state
        emb = ours.get_input_embeddings()(ids)
        c = ours(inputs_embeds=emb, attention_mask=mask).last_hidden_state
    valid = mask.bool()
    assert torch.allclose(a[valid], b[valid], atol=1e-5)
    assert torch.equal(a, c)
    # the same weights back in transformers (what export uses)
    back = ours.to_transformers()
    with torch.inference_mode():
        d = back(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(d[valid], b[valid], atol=1e-6)


def test_fast_path_only_for_plain_bert(tiny: Path, tmp_path: Path) -> None:
    assert supports_fast_path(tiny)
    other = tmp_path / "other"
    shutil.copytree(tiny, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["position_embedding_type"] = "relative_key"
    (other / "config.json").write_text(json.dumps(cfg))
    assert not supports_fast_path(other)
    (tmp_path / "empty").mkdir()
    assert not supports_fast_path(tmp_path / "empty")


def test_merged_detector_runs_on_the_fast_encoder_with_the_same_scores(tiny: Path, tmp_path: Path) -> None:
    from framing.detector import Detector
    from framing.model import ModelConfig

    det = Detector.build(["dehumanising", "delegitimising"], ModelConfig(base_model=str(tiny), max_length=16,
                                                                            lora_r=4))
    torch.manual_seed(1)
    with torch.no_grad():  # non-zero adapters, so that merging matters
        for n, p in det.model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    saved = det.save_pretrained(tmp_path / "m")
    fast = Detector.from_pretrained(saved, backbone_dir=str(tiny))
    slow = Detector.from_pretrained(saved, backbone_dir=str(tiny), merge_adapters=False)
    assert isinstance(fast.model.encoder, BertEncoder) and isinstance(fast.tokenizer, FastTokenizer)
    assert not isinstance(slow.model.encoder, BertEncoder)
    a, b = fast.logits_many(TEXTS)[0], slow.logits_many(TEXTS)[0]
    assert max(float((x - y).abs().max()) for x, y in zip(a, b)) < 1e-5
    # windows of long texts and evidence spans are the same too
    da, db = fast.detect_many(TEXTS), slow.detect_many(TEXTS)
    for x, y in zip(da, db):
        assert x.scores == pytest.approx(y.scores, abs=1e-5)
        assert x.labels == y.labels and x.evidence == y.evidence
    assert any(d.evidence for d in da)  # the comparison covered some evidence
