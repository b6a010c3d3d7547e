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
from framing.export import EXPORT_CONFIG, export_detector
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


def _normalised(det: Detector, texts: list[str]) -> list[str]:
    return [normalize(t, det.norm_config).text for t in texts]


def _calibrated(det: Detector, texts: list[str]) -> torch.Tensor:
    temp = torch.tensor([det.config.temperature[lab] for lab in det.labels])
    return torch.stack(det.logits_many(texts)[0]) / temp


def test_exported_sequence_classifier_matches_detector(saved: Path, exported: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    det = Detector.from_pretrained(saved)
    ref = _calibrated(det, TEXTS)
    model = AutoModelForSequenceClassification.from_pretrained(str(exported), use_safetensors=True).eval()
    tok = AutoTokenizer.from_pretrained(str(exported))
    enc = tok(_normalised(det, TEXTS), padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        got = model(**enc).logits
    assert got.shape == ref.shape == (len(TEXTS), 2)
    assert torch.allclose(got, ref, atol=1e-4), (got - ref).abs().max()
    assert ref.std() > 1e-3  # the texts really differ
    if det.model_config.finetune == "lora":  # the merge mattered: the plain backbone gives other logits
        plain = Detector.build(LABELS, det.model_config, backbone_dir=det.model_config.base_model)
        plain.model.head.load_state_dict(det.model.head.state_dict())
        assert not torch.allclose(torch.stack(plain.logits_many(TEXTS)[0]), ref, atol=1e-3)


def test_plain_pipeline_gives_framing_scores(saved: Path, exported: Path) -> None:
    """The issue's call, unchanged: sigmoid scores == framing's calibrated scores, alone or in a padded batch."""
    from transformers import pipeline

    det = Detector.from_pretrained(saved)
    want = [d.scores for d in det.detect_many(TEXTS, evidence=False)]
    pipe = pipeline("text-classification", model=str(exported), top_k=None, function_to_apply="sigmoid")
    texts = _normalised(det, TEXTS)
    for got in (pipe(texts, batch_size=len(texts)), [pipe([t])[0] for t in texts]):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            scores = {d["label"]: d["score"] for d in g}
            assert scores.keys() == w.keys()
            for lab in w:
                assert scores[lab] == pytest.approx(w[lab], abs=1e-4)


def test_tokenizer_adds_the_prefix(saved: Path, exported: Path) -> None:
    from transformers import AutoTokenizer

    det = Detector.from_pretrained(saved)
    tok = AutoTokenizer.from_pretrained(str(exported))
    texts = _normalised(det, TEXTS)
    assert det.model_config.prefix
    assert tok(texts)["input_ids"] == [det.tokenizer(det.model_config.prefix + t)["input_ids"] for t in texts]
    assert tok.model_max_length == det.model_config.max_length


def test_extra_layer_is_what_makes_it_exact(saved: Path, exported: Path) -> None:
    """Without the hand-built mean layer (the pooler on the encoder's own [CLS] state) the scores are wrong."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    det = Detector.from_pretrained(saved)
    ref = _calibrated(det, TEXTS)
    model = AutoModelForSequenceClassification.from_pretrained(str(exported), use_safetensors=True).eval()
    base = AutoConfig.from_pretrained(det.model_config.base_model)
    assert model.config.num_hidden_layers == base.num_hidden_layers + 1
    model.bert.encoder.layer = model.bert.encoder.layer[:-1]
    tok = AutoTokenizer.from_pretrained(str(exported))
    enc = tok(_normalised(det, TEXTS), padding=True, return_tensors="pt")
    with torch.inference_mode():
        got = model(**enc).logits
    assert not torch.allclose(got, ref, atol=1e-2)


def test_export_config_readme_and_tokenizer(saved: Path, exported: Path) -> None:
    out = exported
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["BertForSequenceClassification"]
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
    assert "pipeline(" in readme and "0.42" in readme and "normalise" in readme
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
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
    assert "BertForSequenceClassification" in r.output
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
