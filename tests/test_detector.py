"""Detector with a tiny random backbone: API, save/load round trip, windows, calibration, safety."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from framing.detector import Detection, Detector, DetectorConfig
from framing.model import ModelConfig
from framing.trainer import TrainingArguments, load_split, train

from .tiny import make_tiny_backbone

LABELS = ("dehumanising", "delegitimising")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_backbone(tmp_path_factory.mktemp("tiny"))


def toy_rows(n: int = 48) -> list[dict]:
    pos_d = ["他们就是一群蟑螂应该清除", "these people are rats", "啲黑警全部都系狗"]
    pos_l = ["暴徒勾结外国势力", "rioters paid by foreign forces", "乱港分子搞颜色革命"]
    neg = ["我家厨房有蟑螂", "today the weather is nice", "香港人今天示威", "there are rats in the subway"]
    rows = []
    for i in range(n):
        k = i % 3
        if k == 0:
            rows.append({"text": pos_d[i % 3], "dehumanising": 1, "delegitimising": 0, "lang": "en" if i % 2 else "zh-Hans"})
        elif k == 1:
            rows.append({"text": pos_l[i % 3], "dehumanising": 0, "delegitimising": 1, "lang": "en" if i % 2 else "zh-Hans"})
        else:
            rows.append({"text": neg[i % 4], "dehumanising": 0, "delegitimising": 0, "lang": "en" if i % 2 else "zh-Hans"})
    return rows


def subtype_rows(n: int) -> list[dict]:
    """toy_rows with a "subtypes" column: animal for dehumanising rows, foreign_agent for delegitimising ones."""
    out = toy_rows(n)
    for r in out:
        r["subtypes"] = (["animal"] if r["dehumanising"] else []) + (["foreign_agent"] if r["delegitimising"] else [])
    return out


@pytest.fixture(scope="module")
def trained(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Detector, Path]:
    out = tmp_path_factory.mktemp("model") / "det"
    args = TrainingArguments(base_model=str(tiny_dir), epochs=2, batch_size=8, progress=False, min_lang_positives=5)
    det = train(toy_rows(), toy_rows(24), toy_rows(24), args, out_dir=out)
    return det, out


def test_detect_returns_one_type(trained: tuple[Detector, Path]) -> None:
    det, _ = trained
    d = det.detect("他们就是一群蟑螂")
    assert isinstance(d, Detection)
    assert set(d.scores) == set(LABELS)
    assert all(0.0 <= v <= 1.0 for v in d.scores.values())
    many = det.detect_many(["a", "", "暴徒"])
    assert [type(x) for x in many] == [Detection] * 3
    assert many[1].labels == () and many[1].scores == {lab: 0.0 for lab in LABELS}
    json.dumps(d.to_dict(), ensure_ascii=False)
    with pytest.raises(TypeError):
        det.detect(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        det.detect_many(["ok", 3])  # type: ignore[list-item]


def test_module_level_functions_use_the_default_detector(trained: tuple[Detector, Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import framing
    from framing import default

    det, _ = trained
    monkeypatch.setattr(default, "_default", det)
    one = framing.detect("暴徒勾结外国势力", evidence=False)
    many = framing.detect_many(["暴徒勾结外国势力", "今天天气很好"], evidence=False)
    assert isinstance(one, Detection) and [type(d) for d in many] == [Detection, Detection]
    # a batch of one and a batch of two pad differently: equal to float precision, not bit for bit
    assert one.evidence == () and one.scores == pytest.approx(many[0].scores, abs=1e-5)
    assert framing.detect("暴徒勾结外国势力").scores == pytest.approx(one.scores, abs=1e-5)


def test_save_load_round_trip(trained: tuple[Detector, Path]) -> None:
    det, out = trained
    assert (out / "model.safetensors").exists() and (out / "README.md").exists()
    cfg = json.loads((out / "framing_config.json").read_text())
    assert cfg["format_version"] == 1 and cfg["labels"] == list(LABELS)
    assert set(cfg["temperature"]) == set(LABELS) and set(cfg["thresholds"]) == set(LABELS)
    again = Detector.from_pretrained(out)
    texts = ["他们就是一群蟑螂", "rioters paid by foreign forces", "today is nice"]
    a = [d.scores for d in det.detect_many(texts, evidence=False)]
    b = [d.scores for d in again.detect_many(texts, evidence=False)]
    for x, y in zip(a, b):
        for lab in LABELS:
            assert abs(x[lab] - y[lab]) < 1e-5
    assert "test" in cfg["metrics"] and (out / "test_report.md").exists()


def test_merged_adapters_score_like_peft(trained: tuple[Detector, Path], tmp_path: Path) -> None:
    """Loading folds LoRA into the weights without peft; scores equal the peft model's, and LoRA really mattered."""
    import torch

    _, out = trained
    merged = Detector.from_pretrained(out)
    adapters = Detector.from_pretrained(out, merge_adapters=False)
    assert merged.model.merged and not hasattr(merged.model.encoder, "peft_config")
    assert hasattr(adapters.model.encoder, "peft_config")
    with torch.no_grad():  # make the adapters matter a lot, in both copies alike
        g = torch.Generator().manual_seed(1)
        for n, p in adapters.model.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    adapters.save_pretrained(tmp_path / "noisy")
    merged = Detector.from_pretrained(tmp_path / "noisy")
    texts = ["他们就是一群蟑螂", "rioters paid by foreign forces", "today is nice " * 8]
    a, _ = adapters.logits_many(texts)
    b, _ = merged.logits_many(texts)
    base = Detector.build(LABELS, adapters.model_config, backbone_dir=adapters.model_config.base_model)
    base.model.head.load_state_dict(adapters.model.head.state_dict())
    c, _ = base.logits_many(texts)
    assert max(float((x - y).abs().max()) for x, y in zip(a, b)) < 1e-4
    assert max(float((x - y).abs().max()) for x, y in zip(a, c)) > 1e-2  # without the adapters: different
    with pytest.raises(ValueError, match="merge_adapters=False"):
        merged.save_pretrained(tmp_path / "again")


def test_batching_does_not_change_scores(trained: tuple[Detector, Path]) -> None:
    det, _ = trained
    texts = ["暴徒", "these people are rats and must go", "今天天气很好的", "a" * 3]
    one = [det.detect(t, evidence=False).scores for t in texts]
    many = [d.scores for d in det.detect_many(texts, batch_size=2, evidence=False)]
    for x, y in zip(one, many):
        for lab in LABELS:
            assert abs(x[lab] - y[lab]) < 1e-4


def test_long_text_uses_windows(tiny_dir: Path) -> None:
    det = Detector.build(LABELS, ModelConfig(base_model=str(tiny_dir), max_length=32), backbone_dir=str(tiny_dir))
    long = "今天天气很好 " * 40 + "他们就是一群蟑螂"
    assert len(det._windows(long)) > 1
    d = det.detect(long, evidence=False)
    assert set(d.scores) == set(LABELS)


def test_evidence_spans_index_the_original(trained: tuple[Detector, Path]) -> None:
    det, _ = trained
    det.config.thresholds = {lab: 0.0 for lab in LABELS}  # force labels so evidence is produced
    try:
        raw = "他們就是一群曱 甴，應該清除"
        d = det.detect(raw)
        assert d.labels == LABELS
        assert d.evidence
        for e in d.evidence:
            assert 0 <= e.start < e.end <= len(raw)
            assert raw[e.start:e.end] == e.surface
            assert e.source in ("lexicon", "model")
    finally:
        cfg = json.loads((trained[1] / "framing_config.json").read_text())
        det.config.thresholds = cfg["thresholds"]


def test_model_attribution_keeps_no_weight_gradients(trained: tuple[Detector, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Saliency needs the gradient of the input only; weights must not get (and keep) a .grad."""
    import torch

    from framing.evidence import model_attribution
    from framing.normalizer import normalize

    det, _ = trained
    for p in det.model.parameters():
        p.grad = None
    norm = normalize("these people are a disease on our city", det.norm_config)
    got = model_attribution(det, norm, LABELS[0], top_k=3)
    assert got
    assert [n for n, p in det.model.named_parameters() if p.grad is not None] == []

    def via_backward(out: torch.Tensor, inp: torch.Tensor) -> tuple[torch.Tensor]:
        out.backward()  # a full backward pass, as before: the same spans and weights
        return (inp.grad,)

    monkeypatch.setattr(torch.autograd, "grad", via_backward)
    assert model_attribution(det, norm, LABELS[0], top_k=3) == got
    for p in det.model.parameters():
        p.grad = None


def test_thread_safe(trained: tuple[Detector, Path]) -> None:
    det, _ = trained
    texts = ["暴徒勾结外国势力", "these people are rats", "我家厨房有蟑螂"] * 5
    expected = [d.scores for d in det.detect_many(texts, evidence=False)]
    results: list = [None] * 4

    def work(i: int) -> None:
        results[i] = [d.scores for d in det.detect_many(texts, evidence=False)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert r == expected


def test_int8(trained: tuple[Detector, Path]) -> None:
    _, out = trained
    q = Detector.from_pretrained(out, quantize="int8")
    d = q.detect("暴徒勾结外国势力")
    assert set(d.scores) == set(LABELS)
    with pytest.raises(ValueError):
        Detector.from_pretrained(out, quantize="int4")


@pytest.mark.parametrize("full_range", [True, False])
def test_int8_layers_and_activation_range(trained: tuple[Detector, Path], full_range: bool) -> None:
    import copy

    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    from framing.quantize import _FullRangeDynamicLinear, quantize_int8

    _, out = trained
    fp32 = Detector.from_pretrained(out)
    q = quantize_int8(copy.deepcopy(fp32.model), full_range=full_range)
    kinds = {n: type(m) for n, m in q.named_modules() if isinstance(m, (torch.nn.Linear, DynamicLinear))}
    ffn_out = {n for n in kinds if n.endswith("output.dense") and "attention" not in n}
    assert ffn_out and all(kinds[n] is torch.nn.Linear for n in ffn_out)  # the feed-forward outputs stay fp32
    quantised = {n for n in kinds if n not in ffn_out}
    assert quantised and all(issubclass(kinds[n], DynamicLinear) for n in quantised)
    assert all((kinds[n] is _FullRangeDynamicLinear) == full_range for n in quantised)
    ids = torch.tensor([[2, 10, 11, 12, 3]])
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        ref, got = fp32.model(input_ids=ids, attention_mask=mask), q(input_ids=ids, attention_mask=mask)
    assert torch.allclose(ref, got, atol=0.05)


def test_refuses_pickle_and_bad_dirs(tmp_path: Path, trained: tuple[Detector, Path]) -> None:
    _, out = trained
    with pytest.raises(FileNotFoundError, match="not a framing model"):
        Detector.from_pretrained(tmp_path)
    bad = tmp_path / "pickled"
    bad.mkdir()
    (bad / "framing_config.json").write_text((out / "framing_config.json").read_text())
    (bad / "pytorch_model.bin").write_bytes(b"not really")
    with pytest.raises(ValueError, match="safetensors only"):
        Detector.from_pretrained(bad)
    cfg = json.loads((out / "framing_config.json").read_text())
    cfg["format_version"] = 99
    with pytest.raises(ValueError, match="format_version"):
        DetectorConfig.from_dict(cfg)


def test_new_labels_and_data_errors(tiny_dir: Path, tmp_path: Path) -> None:
    rows = [{"body": t, "hostile": int("rats" in t), "irony": i % 2} for i, t in
            enumerate(["these people are rats", "nice day", "rats everywhere", "good morning"] * 6)]
    args = TrainingArguments(labels=("hostile", "irony"), text_field="body", lang_field=None,
                             base_model=str(tiny_dir), epochs=1, batch_size=4, progress=False)
    det = train(rows, rows, None, args)
    assert det.labels == ("hostile", "irony")
    from datasets import Dataset, DatasetDict

    dd = DatasetDict({"train": Dataset.from_list(rows)})
    with pytest.raises(ValueError, match=r"did you mean dataset\['train'\]"):
        load_split(dd)
    with pytest.raises(ValueError, match="no label column"):
        train(rows, rows, None, TrainingArguments(labels=("missing",), text_field="body", lang_field=None,
                                                  base_model=str(tiny_dir), epochs=1, progress=False))


def test_cli_detect_train_evaluate(trained: tuple[Detector, Path], tiny_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from framing.cli import cli

    _, out = trained
    runner = CliRunner()
    r = runner.invoke(cli, ["detect", "--model", str(out), "--json", "他们就是一群蟑螂"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d["scores"]) == set(LABELS) and d["text"] == "他们就是一群蟑螂"
    r = runner.invoke(cli, ["detect", "--model", str(out), "-"], input="暴徒勾结外国势力\n")
    assert r.exit_code == 0 and "dehumanising" in r.output
    data = tmp_path / "toy.jsonl"
    data.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in toy_rows(24)) + "\n", encoding="utf-8")
    r = runner.invoke(cli, ["train", "--data", str(data), "--validation", str(data), "--base-model", str(tiny_dir),
                            "--epochs", "1", "--batch-size", "8", "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["evaluate", str(tmp_path / "m"), "--data", str(data), "--json"])
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.stdout)) == set(LABELS)
    r = runner.invoke(cli, ["detect", "--model", str(tmp_path), "x"])
    assert r.exit_code == 1 and "not a framing model" in r.output


def test_scripts_share_thresholds() -> None:
    from framing.detector import threshold_group

    cfg = DetectorConfig(labels=LABELS, model={}, thresholds={"dehumanising": 0.5},
                         lang_thresholds={"dehumanising": {"zh": 0.3, "en": 0.7}})
    assert cfg.threshold("dehumanising", "zh-Hans") == cfg.threshold("dehumanising", "zh-Hant") == 0.3
    assert cfg.threshold("dehumanising", "yue") == 0.3
    assert cfg.threshold("dehumanising", "en") == 0.7
    assert cfg.threshold("dehumanising", "mixed") == 0.5
    assert threshold_group("zh-Hant") == "zh"


def test_trainer_checkpoints_resume_log_and_callbacks(tiny_dir: Path, tmp_path: Path) -> None:
    """The loop is Hugging Face Trainer: a checkpoint per epoch, resume, CSV log, caller's callbacks, accumulation."""
    from transformers import TrainerCallback

    seen: list[int] = []

    class Count(TrainerCallback):
        def on_epoch_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            seen.append(state.global_step)

    ckpt = tmp_path / "ckpt"
    base = dict(base_model=str(tiny_dir), batch_size=8, progress=False, min_lang_positives=5, checkpoint_dir=str(ckpt),
                gradient_accumulation_steps=2, patience=5)
    first = train(toy_rows(), toy_rows(24), None, TrainingArguments(epochs=1, callbacks=(Count(),), **base))
    assert seen == [3]  # 48 rows / (8 x 2 accumulated) = 3 optimizer steps in the epoch
    assert sorted(p.name for p in ckpt.glob("checkpoint-*")) == ["checkpoint-3"]
    log = (ckpt / "log.csv").read_text().splitlines()
    assert log[0] == "step,epoch,key,value" and any(",eval_val_f1," in x for x in log)
    assert [h["step"] for h in first.config.training["history"]] == [3]
    assert "callbacks" not in first.config.training and first.config.training["gradient_accumulation_steps"] == 2
    seen.clear()
    resumed = train(toy_rows(), toy_rows(24), None, TrainingArguments(epochs=2, callbacks=(Count(),),
                                                                     resume_from_checkpoint=True, **base))
    assert seen == [6]  # only the second epoch ran
    assert [h["step"] for h in resumed.config.training["history"]] == [3, 6]
    with pytest.raises(ValueError, match="checkpoint_dir"):
        TrainingArguments(resume_from_checkpoint=True)
    with pytest.raises(ValueError, match="focal"):
        TrainingArguments(loss="hinge")
    focal = train(toy_rows(), toy_rows(24), None, TrainingArguments(base_model=str(tiny_dir), epochs=1, batch_size=8,
                                                                   progress=False, loss="focal"))
    assert focal.config.training["loss"] == "focal"


def test_subtypes_trained_calibrated_and_shipped_only_when_good(tiny_dir: Path, tmp_path: Path) -> None:
    import framing.subtypes as st_mod

    subtypes = {"dehumanising": ("animal", "filth"), "delegitimising": ("foreign_agent",)}
    args = TrainingArguments(base_model=str(tiny_dir), epochs=3, batch_size=8, progress=False, min_lang_positives=5,
                             subtypes=subtypes, learning_rate=5e-3, head_learning_rate=2e-2)
    old = st_mod.SHIP_MIN_POSITIVES
    st_mod.SHIP_MIN_POSITIVES = 5  # the toy test split is small
    try:
        det = train(subtype_rows(48), subtype_rows(24), subtype_rows(24), args, out_dir=tmp_path / "m")
    finally:
        st_mod.SHIP_MIN_POSITIVES = old
    cfg = det.config
    assert cfg.subtypes == {"dehumanising": ["animal", "filth"], "delegitimising": ["foreign_agent"]}
    assert cfg.n_outputs == 5 and det.model.head.out_features == 5
    rep = cfg.metrics["test_subtypes"]
    assert set(rep) == {"animal", "filth", "foreign_agent"} and rep["filth"]["positives"] == 0
    assert "filth" not in cfg.subtypes_shipped  # never seen, never shipped
    assert set(cfg.subtypes_shipped) == {s for s, m in rep.items() if m["f1"] >= 0.70 and m["positives"] >= 5}
    loaded = Detector.from_pretrained(tmp_path / "m")
    assert loaded.config.subtypes_shipped == cfg.subtypes_shipped
    d = loaded.detect("these people are rats")
    assert cfg.subtypes_shipped  # the toy data is easy: at least one sub-type is learned well
    if cfg.subtypes_shipped:
        assert d.subtypes is not None and set(d.subtypes) == set(d.labels)
        assert all(s in cfg.subtypes_shipped for v in d.subtypes.values() for s in v)
        assert "subtypes" in d.to_dict()
        for e in d.evidence:
            assert e.subtype is None or e.subtype in d.subtypes[e.label]
    # a model without shipped sub-types reports none, and its dicts have no "subtypes" key
    loaded.config.subtypes_shipped = []
    d2 = loaded.detect("these people are rats")
    assert d2.subtypes is None and "subtypes" not in d2.to_dict()
    with pytest.raises(ValueError, match="not in"):
        Detector.build(LABELS, ModelConfig(base_model=str(tiny_dir)), subtypes={"irony": ("x",)})
    with pytest.raises(ValueError, match="subtypes"):
        train(toy_rows(), toy_rows(24), None, args)


def test_subtype_head_is_a_second_stage_that_leaves_the_labels_alone(tiny_dir: Path, tmp_path: Path) -> None:
    import framing.subtypes as st_mod
    from framing.subtype_head import fit_subtype_head

    base = dict(base_model=str(tiny_dir), epochs=2, batch_size=8, progress=False, min_lang_positives=5,
                learning_rate=5e-3, head_learning_rate=2e-2)
    plain = train(subtype_rows(48), subtype_rows(24), None, TrainingArguments(**base))
    texts = ["these people are rats", "香港人今天示威", "rioters paid by foreign forces"]
    before = [d.scores for d in plain.detect_many(texts)]
    old = st_mod.SHIP_MIN_POSITIVES
    st_mod.SHIP_MIN_POSITIVES = 5  # the toy test split is small
    try:
        weak = [dict(r, weak=True) for r in subtype_rows(8)]  # rule-labelled rows carry no sub-types: left out
        rep = fit_subtype_head(plain, subtype_rows(48) + weak, subtype_rows(24), subtype_rows(24),
                               {"dehumanising": ("animal", "filth"), "delegitimising": ("foreign_agent",)})
        with_head = train(subtype_rows(48), subtype_rows(24), subtype_rows(24), TrainingArguments(
            subtype_head={"dehumanising": ("animal",)}, **base), out_dir=tmp_path / "m")
    finally:
        st_mod.SHIP_MIN_POSITIVES = old
    cfg = plain.config
    assert cfg.subtypes == {"dehumanising": ["animal"], "delegitimising": ["foreign_agent"]}  # filth: no train row
    assert plain.model.head.out_features == 4 and set(rep) == {"animal", "foreign_agent"}
    after = [d.scores for d in plain.detect_many(texts)]
    assert all(a == pytest.approx(b, abs=1e-6) for a, b in zip(after, before))  # the label rows are untouched
    fit_info = cfg.training["subtype_head_fit"]
    assert fit_info["train_windows"] == 48 and fit_info["train_rows"] == 48
    assert set(cfg.subtypes_shipped) == {s for s, m in rep.items() if m["f1"] >= 0.70 and m["positives"] >= 5}
    assert cfg.subtypes_shipped  # the toy data is easy
    d = plain.detect("these people are rats")
    assert d.subtypes is not None and set(d.subtypes) == set(d.labels)
    loaded = Detector.from_pretrained(tmp_path / "m")
    assert loaded.config.subtypes == {"dehumanising": ["animal"]} and loaded.model.head.out_features == 3
    assert loaded.config.training["subtype_head"] == {"dehumanising": ["animal"]}
    assert "C" in loaded.config.training["subtype_head_fit"]["chosen"]["animal"]
    with pytest.raises(ValueError, match="already has sub-type outputs"):
        fit_subtype_head(plain, subtype_rows(48), subtype_rows(24), subtypes={"dehumanising": ("animal",)})
    with pytest.raises(ValueError, match="not both"):
        TrainingArguments(subtypes={"dehumanising": ("animal",)}, subtype_head={"dehumanising": ("animal",)})
