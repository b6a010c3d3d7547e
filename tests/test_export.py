"""``framing export``: the exported plain-transformers model reproduces the detector's raw logits.

Uses the tiny backbone of tests/tiny.py, whose tokenizer has a character vocabulary
(so different texts give different token ids), and random LoRA/head weights (so
a merge that did nothing would be caught).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from framing.detector import Detector
from framing.export import EXPORT_CONFIG, HEAD_NAME, export_detector
from framing.model import ModelConfig
from framing.normalizer import NormalizeConfig, normalize

from .tiny import make_tiny_backbone

LABELS = ("dehumanising", "delegitimising")
TEXTS = ["他們就是一群曱甴，應該清除", "these people are rats!", "暴徒勾结外国势力 and co", "a", "今天天气很好的"]


@pytest.fixture(scope="module")
def backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_backbone(tmp_path_factory.mktemp("tiny_export"))


def _randomise(det: Detector, seed: int) -> Detector:
    """Non-zero LoRA B matrices and head, calibration that is not the default."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in det.model.named_parameters():
            if "lora_B" in n or n.startswith("head."):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    det.config.temperature = {"dehumanising": 1.7, "delegitimising": 0.8}
    det.config.thresholds = {"dehumanising": 0.42, "delegitimising": 0.61}
    det.config.lang_thresholds = {"dehumanising": {"zh": 0.33}}
    return det


def _save(kind: str, backbone: Path, factory: pytest.TempPathFactory) -> Path:
    mc = ModelConfig(base_model=str(backbone), finetune=kind, max_length=64)
    det = _randomise(Detector.build(LABELS, mc, backbone_dir=str(backbone)), seed=len(kind))
    return det.save_pretrained(factory.mktemp("det") / kind)


@pytest.fixture(scope="module", params=["lora", "full", "head"])
def saved(request: pytest.FixtureRequest, backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save(request.param, backbone, tmp_path_factory)


@pytest.fixture(scope="module")
def saved_lora(backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save("lora", backbone, tmp_path_factory)


@pytest.fixture(scope="module")
def exported(saved: Path) -> Path:
    return export_detector(saved, saved.parent / "export")


def _inputs(det: Detector, texts: list[str]) -> list[str]:
    return [det.model_config.prefix + normalize(t, det.norm_config).text for t in texts]


def test_exported_token_classifier_matches_detector(saved: Path, exported: Path) -> None:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    out = exported
    det = Detector.from_pretrained(saved)
    ref = torch.stack(det.logits_many(TEXTS)[0])
    model = AutoModelForTokenClassification.from_pretrained(str(out), use_safetensors=True).eval()
    tok = AutoTokenizer.from_pretrained(str(out))
    enc = tok(_inputs(det, TEXTS), padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        token_logits = model(**enc).logits
    mask = enc["attention_mask"].unsqueeze(-1).float()
    got = (token_logits * mask).sum(1) / mask.sum(1)
    assert got.shape == ref.shape == (len(TEXTS), 2)
    assert torch.allclose(got, ref, atol=1e-4), (got - ref).abs().max()
    assert ref.std() > 1e-3  # the texts really differ
    if det.model_config.finetune == "lora":  # the merge mattered: the plain backbone gives other logits
        plain = Detector.build(LABELS, det.model_config, backbone_dir=det.model_config.base_model)
        plain.model.head.load_state_dict(det.model.head.state_dict())
        assert not torch.allclose(torch.stack(plain.logits_many(TEXTS)[0]), ref, atol=1e-3)


def test_feature_extraction_route_matches(saved: Path, exported: Path) -> None:
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    out = exported
    det = Detector.from_pretrained(saved)
    ref = torch.stack(det.logits_many(TEXTS)[0])
    enc_model = AutoModel.from_pretrained(str(out), use_safetensors=True, add_pooling_layer=False).eval()
    tok = AutoTokenizer.from_pretrained(str(out))
    head = load_file(str(out / HEAD_NAME))
    enc = tok(_inputs(det, TEXTS), padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = enc_model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    got = pooled @ head["weight"].T + head["bias"]
    assert torch.allclose(got, ref, atol=1e-4), (got - ref).abs().max()


def test_sequence_classification_cannot_match(saved: Path, exported: Path) -> None:
    """Why the export is not *ForSequenceClassification: its [CLS] pooler is not our mean pooling."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = exported
    det = Detector.from_pretrained(saved)
    ref = torch.stack(det.logits_many(TEXTS)[0])
    seq = AutoModelForSequenceClassification.from_pretrained(str(out), use_safetensors=True).eval()
    with torch.no_grad():  # the best a pooler can do: identity dense, so it sees tanh(h_cls)
        seq.bert.pooler.dense.weight.copy_(torch.eye(seq.config.hidden_size))
        seq.bert.pooler.dense.bias.zero_()
    tok = AutoTokenizer.from_pretrained(str(out))
    enc = tok(_inputs(det, TEXTS), padding=True, return_tensors="pt")
    with torch.inference_mode():
        got = seq(**enc).logits
    assert not torch.allclose(got, ref, atol=1e-2)


def test_export_config_readme_and_tokenizer(saved: Path, exported: Path) -> None:
    out = exported
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["BertForTokenClassification"]
    assert cfg["id2label"] == {"0": "dehumanising", "1": "delegitimising"}
    assert cfg["label2id"] == {"dehumanising": 0, "delegitimising": 1}
    assert cfg["problem_type"] == "multi_label_classification"
    meta = json.loads((out / EXPORT_CONFIG).read_text())
    assert meta["labels"] == list(LABELS) and meta["prefix"] == "query: " and meta["max_length"] == 64
    assert meta["temperature"] == {"dehumanising": 1.7, "delegitimising": 0.8}
    assert meta["thresholds"] == {"dehumanising": 0.42, "delegitimising": 0.61}
    assert meta["lang_thresholds"] == {"dehumanising": {"zh": 0.33}}
    assert NormalizeConfig.from_dict(meta["normalize"]) == NormalizeConfig()
    assert meta["parity_check"]["max_abs_logit_diff"] < 1e-4
    readme = (out / "README.md").read_text()
    assert "mean" in readme and "AutoModelForSequenceClassification" in readme and "0.42" in readme
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", HEAD_NAME, "tokenizer.json", "tokenizer_config.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl")) for n in names)
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp dir left


def test_in_memory_detector_keeps_its_adapters(backbone: Path, tmp_path: Path) -> None:
    det = _randomise(Detector.build(LABELS, ModelConfig(base_model=str(backbone)), backbone_dir=str(backbone)), 7)
    before = torch.stack(det.logits_many(TEXTS)[0])
    export_detector(det, tmp_path / "e")
    assert hasattr(det.model.encoder, "merge_and_unload")  # still a peft model
    assert torch.allclose(torch.stack(det.logits_many(TEXTS)[0]), before)


def test_short_window_skips_long_check_texts(backbone: Path, tmp_path: Path) -> None:
    """A model whose window is shorter than some check texts: those are skipped, not failed."""
    mc = ModelConfig(base_model=str(backbone), max_length=12)
    det = _randomise(Detector.build(LABELS, mc, backbone_dir=str(backbone)), 3)
    long_text = "these people are rats and must be cleaned out of every street today"
    assert len(det._windows(long_text)) > 1
    out = export_detector(det, tmp_path / "e", check_texts=(long_text, "a b"))
    assert json.loads((out / EXPORT_CONFIG).read_text())["parity_check"]["texts"] == 1
    with pytest.raises(ValueError, match="fits in one window"):
        export_detector(det, tmp_path / "f", check_texts=(long_text,))


def test_overwrite_rules_and_cli(saved_lora: Path, tmp_path: Path) -> None:
    saved = saved_lora
    from click.testing import CliRunner

    from framing.cli import cli

    target = tmp_path / "x"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        export_detector(saved, target)
    with pytest.raises(FileExistsError, match="not a framing export"):
        export_detector(saved, target, overwrite=True)
    assert (target / "keep.txt").read_text() == "mine"
    runner = CliRunner()
    r = runner.invoke(cli, ["export", str(tmp_path / "cli"), "--model", str(saved)])
    assert r.exit_code == 0, r.output
    assert "BertForTokenClassification" in r.output
    r = runner.invoke(cli, ["export", str(tmp_path / "cli"), "--model", str(saved)])
    assert r.exit_code == 1 and "--force" in r.output
    r = runner.invoke(cli, ["export", str(tmp_path / "cli"), "--model", str(saved), "--force"])
    assert r.exit_code == 0, r.output


def test_quantized_detector_is_refused(saved_lora: Path, tmp_path: Path) -> None:
    saved = saved_lora
    q = Detector.from_pretrained(saved, quantize="int8")
    with pytest.raises(ValueError, match="fp32"):
        export_detector(q, tmp_path / "q")


def test_cli_without_model_and_without_bundled_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import framing.default
    from framing.cli import cli

    monkeypatch.setattr(framing.default, "default_model_dir", lambda: tmp_path / "nothing")
    r = CliRunner().invoke(cli, ["export", str(tmp_path / "out")])
    assert r.exit_code == 1 and "--model" in r.output
    assert not (tmp_path / "out").exists()
