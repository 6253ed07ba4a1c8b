"""Language-model audits on a tiny causal LM trained here from scratch (nothing downloaded)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_in_process import run_in_process
from lazy_modules import lazily, needs
from miaudit import audit
from miaudit.data.texts import TextRecords
from miaudit.demo.lm import DemoLM, ledger_texts, train_tiny_lm, train_tiny_mlm
from miaudit.errors import InputError
from miaudit.signals.lm import lm_signals, min_k, min_k_plus_plus
from miaudit.targets.lm import CausalLMTarget

torch = lazily("torch")
pytestmark = needs("torch", "transformers")

MODEL_ATTACKS = ["lm-loss", "zlib", "min-k", "min-k++"]


@pytest.fixture(scope="module")
def reference_lm(tiny_lm: DemoLM) -> CausalLMTarget:
    """A reference model for the tiny LM: the same architecture and tokenizer, trained 10
    epochs on ``other`` (texts of the same generator that are neither members nor non-members)."""
    target, _, _, other = tiny_lm
    reference = train_tiny_lm(other, target.tokenizer, epochs=10, seed=1)
    return CausalLMTarget(reference.model, reference.tokenizer, batch_size=32)


@pytest.fixture(scope="module")
def masked_lm(tiny_lm: DemoLM) -> Any:
    """The neighbour generator's masked LM: a small BERT trained 5 epochs on ``other``."""
    target, _, _, other = tiny_lm
    return train_tiny_mlm(other, target.tokenizer, epochs=5, seed=0)


def test_attacks_find_members_and_the_blind_baseline_does_not(tiny_lm: DemoLM) -> None:
    target, members, nonmembers, _ = tiny_lm
    result = audit(target, members, nonmembers, attacks=[*MODEL_ATTACKS, "blind-baseline"])
    best = result.strongest()
    # 200 members seen 30 times vs 200 fresh records of the same generator: observed best
    # AUC 0.92 (lm-loss), interval ± 0.03; the blind baseline 0.54 [0.49, 0.60].
    assert best is not None and best.auc.value >= 0.8
    assert result.attack("blind-baseline").auc.value <= 0.6
    assert best.name != "blind-baseline"
    assert not any("Warning" in note for note in result.notes)
    report = json.loads(result.render("json"))
    assert report["target"]["kind"] == "transformers"
    assert {a["name"] for a in report["attacks"]} == {*MODEL_ATTACKS, "blind-baseline"}


def test_blind_baseline_warns_when_the_split_is_shifted(tiny_lm: DemoLM) -> None:
    target, members, _, _ = tiny_lm
    # non-members from another source: the same ledger, but shouted
    shifted = [t.upper() for t in ledger_texts(400, seed=9)[200:]]
    result = audit(target, members, shifted, attacks=["lm-loss", "blind-baseline"])
    assert result.attack("blind-baseline").auc.value > 0.95
    assert any(note.startswith("Warning: the blind baseline") for note in result.notes)
    assert "Warning: the blind baseline" in result.render("md")


def test_padding_and_the_sliding_window_change_nothing(tiny_lm: DemoLM) -> None:
    target, members, _, _ = tiny_lm
    texts = [" ".join(members[:4]), *members[4:12]]  # one text longer than a 16-token window
    full = CausalLMTarget(target.model, target.tokenizer, batch_size=1).token_stats(texts)
    batched = CausalLMTarget(target.model, target.tokenizer, batch_size=32).token_stats(texts)
    np.testing.assert_allclose(batched.logp, full.logp, atol=1e-5)
    windowed = CausalLMTarget(target.model, target.tokenizer, max_length=16, stride=8).token_stats(
        texts
    )
    # every token is scored exactly once, whatever the window
    assert np.array_equal(windowed.counts(), full.counts())
    assert windowed.counts()[0] == len(target.encode(texts[0])) - 1
    # inside the first window the context is the same, so the log-probabilities are too
    np.testing.assert_allclose(windowed.logp[:15], full.logp[:15], atol=1e-5)
    # beyond it the context is shorter (8–15 tokens instead of all): the loss differs
    assert not np.allclose(
        windowed.logp[: windowed.counts()[0]], full.logp[: full.counts()[0]], atol=1e-3
    )


def test_loads_from_a_local_directory(tiny_lm: DemoLM, tmp_path: Path) -> None:
    target, members, _, _ = tiny_lm
    target.model.save_pretrained(tmp_path)
    target.tokenizer.save_pretrained(tmp_path)
    loaded = CausalLMTarget.from_pretrained(tmp_path, batch_size=16)
    np.testing.assert_allclose(
        loaded.token_stats(members[:5]).logp, target.token_stats(members[:5]).logp, atol=1e-6
    )


def test_min_k_plus_plus_by_hand(tiny_lm: DemoLM) -> None:
    target, members, _, _ = tiny_lm
    text = members[0]
    stats = target.token_stats([text])
    ids = torch.tensor([target.encode(text)])
    with torch.no_grad():
        logp = torch.log_softmax(target.model(input_ids=ids).logits[0, :-1].double(), -1)
    actual = logp.gather(1, ids[0, 1:, None])[:, 0].numpy()
    p = logp.exp().numpy()
    mu = (p * logp.numpy()).sum(1)
    sigma = np.sqrt((p * logp.numpy() ** 2).sum(1) - mu**2)
    z = np.sort((actual - mu) / sigma)
    for fraction in (0.2, 0.5, 0.01):
        k = max(1, int(fraction * len(z)))  # int(k·n), as the paper and MIMIR take it
        assert min_k_plus_plus(stats, fraction)[0] == pytest.approx(z[:k].mean(), rel=1e-6)
        assert min_k(stats, fraction)[0] == pytest.approx(np.sort(actual)[:k].mean(), rel=1e-6)
    signals = lm_signals(stats, [text])
    # the normaliser's non-top terms are summed in float32 (about 1e-6 of their sum): log p is
    # exact to about 1e-7 absolute (and fully precise for near-certain tokens, tested below)
    assert signals["lm_loss"][0] == pytest.approx(-actual.mean(), rel=1e-7)


def test_min_k_takes_k_from_python_the_config_and_the_cli(tiny_lm: DemoLM, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from miaudit.cli import main

    target, members, nonmembers, _ = tiny_lm
    default = audit(target, members, nonmembers, attacks=["min-k", "min-k++"])
    tenth = audit(
        target,
        members,
        nonmembers,
        attacks=["min-k", "min-k++"],
        attack_params={"min-k": {"k": 0.1}, "min-k++": {"k": "0.1"}},
    )
    stats = target.token_stats(members + nonmembers)
    np.testing.assert_allclose(tenth.score_table.scores["min-k"], min_k(stats, 0.1), rtol=1e-12)
    np.testing.assert_allclose(
        default.score_table.scores["min-k++"], min_k_plus_plus(stats, 0.2), rtol=1e-12
    )
    assert "10% least likely" in tenth.attack("min-k").description
    with pytest.raises(InputError, match=r"k must be in \(0, 1\]"):
        audit(target, members, nonmembers, attacks=["min-k"], attack_params={"min-k": {"k": 2}})
    with pytest.raises(InputError, match="has no parameter"):
        audit(target, members, nonmembers, attacks=["min-k"], attack_params={"min-k": {"j": 1}})
    target.model.save_pretrained(tmp_path / "model")
    target.tokenizer.save_pretrained(tmp_path / "model")
    (tmp_path / "m.txt").write_text("\n".join(members))
    (tmp_path / "n.txt").write_text("\n".join(nonmembers))
    (tmp_path / "a.toml").write_text(
        '[target]\nkind = "transformers"\npath = "model"\n'
        '[data]\nmembers = "m.txt"\nnonmembers = "n.txt"\n'
        '[audit]\nattacks = ["min-k"]\n[audit.attack_params.min-k]\nk = 0.1\n'
    )
    for flags in ([], ["--attack-param", "min-k.k=0.1"]):
        out = tmp_path / f"r{len(flags)}"
        config = tmp_path / "a.toml"
        if flags:  # the flag alone, on a config without the table
            config.write_text(config.read_text().split("[audit.attack_params")[0])
        done = CliRunner().invoke(
            main, ["audit", "--config", str(config), "--out", str(out), "--quiet", *flags]
        )
        assert done.exit_code == 0, done.output
        report = json.loads((out / "report.json").read_text())
        assert report["attacks"][0]["auc"] == pytest.approx(tenth.attack("min-k").auc.value)


def test_reference_and_lowercase_attacks(tiny_lm: DemoLM, reference_lm: CausalLMTarget) -> None:
    target, members, nonmembers, _ = tiny_lm
    result = audit(
        target, members, nonmembers, attacks=["reference", "lowercase"], reference_lm=reference_lm
    )
    assert result.attack("reference").auc.value > 0.8
    assert "already lowercase" in result.skipped[0].reason
    without = audit(target, members, nonmembers, attacks=["reference"])
    assert "reference_lm" in without.skipped[0].reason


def test_text_records_from_files_and_bad_input(tmp_path: Path, tiny_lm: DemoLM) -> None:
    texts = ledger_texts(30, seed=3)
    (tmp_path / "a.txt").write_text("\n".join(texts) + "\n\n")
    (tmp_path / "a.jsonl").write_text(
        "\n".join(json.dumps({"text": t, "id": i}) for i, t in enumerate(texts))
    )
    import pandas as pd

    pd.DataFrame({"body": texts}).to_csv(tmp_path / "a.csv", index=False)
    for records in (
        TextRecords.from_file(tmp_path / "a.txt"),
        TextRecords.from_file(tmp_path / "a.jsonl", id_column="id"),
        TextRecords.from_file(tmp_path / "a.csv", column="body"),
    ):
        assert records.texts.tolist() == texts
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_dict({"text": texts, "key": [f"k{i}" for i in range(30)]})
    from_hf = TextRecords.from_dataset(dataset, id_column="key")
    assert from_hf.texts.tolist() == texts and from_hf.ids[0] == "k0"
    assert TextRecords.from_texts(dataset).texts.tolist() == texts
    with pytest.raises(InputError, match="no column 'body'"):
        TextRecords.from_dataset(dataset, column="body")
    target, members, nonmembers, _ = tiny_lm
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\nnot json\n')
    cases = [
        (lambda: TextRecords.from_file(tmp_path / "bad.jsonl"), "line 2 is not JSON"),
        (lambda: TextRecords.from_file(tmp_path / "a.csv"), "no column 'text'"),
        (lambda: TextRecords.from_texts(["ok", ""]), "record 1 is empty"),
        (lambda: TextRecords.from_texts(["ok", 3]), "not text"),
        (lambda: TextRecords.from_texts("one string"), "list of texts"),
        (lambda: TextRecords.from_texts(["a", "b"], ids=[1, 1]), "duplicate record ids"),
        (lambda: audit(target, members, members[:50]), "share 50 identical texts"),
        (lambda: audit(target, members[:10], nonmembers), "only 10 texts"),
        (lambda: audit(target, members, nonmembers, attacks=["loss"]), "unknown language"),
        (lambda: CausalLMTarget(target.model, target.tokenizer, max_length=4096), "max_length"),
        (lambda: CausalLMTarget.from_pretrained(tmp_path / "nope"), "not found"),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()


def test_demo_llm_from_the_command_line(
    tiny_lm: DemoLM, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in process, and the model the demo trains is the session's tiny LM: ``demo_lm(seed=0)``
    # with its defaults, which is exactly how the fixture was made (the entry point and the
    # demo's own training in a fresh interpreter: tests/cli/test_cli.py::test_demo and
    # test_a_missing_extra_names_its_pip_line)
    import miaudit.demo.lm

    calls = []

    def trained(*args: Any, **kwargs: Any) -> DemoLM:
        calls.append((args, kwargs))
        return tiny_lm

    monkeypatch.setattr(miaudit.demo.lm, "demo_lm", trained)
    done = cli("demo", "llm", "--out", str(tmp_path), "--format", "json,md", "--quiet")
    assert done.returncode == 0, done.stderr
    assert calls == [((0,), {})]  # the seed, and the defaults the fixture used
    report = json.loads((tmp_path / "report.json").read_text())
    aucs = {a["name"]: a["auc"] for a in report["attacks"]}
    assert max(v for k, v in aucs.items() if k != "blind-baseline") >= 0.8
    assert aucs["blind-baseline"] <= 0.6
    assert "already lowercase" in (tmp_path / "report.md").read_text()


def test_canary_exposure_separates_inserted_canaries(tmp_path: Path) -> None:
    from miaudit.canary import CanaryFormat, canary_exposure
    from miaudit.demo.lm import train_tokenizer

    fmt = CanaryFormat("the patient's record number is ####-####")
    canaries = fmt.sample(60, seed=5)
    inserted, kept_aside = canaries[:30], canaries[30:]
    corpus = ledger_texts(400, seed=11)
    tokenizer = train_tokenizer(corpus[200:] + fmt.sample(200, seed=6, exclude=canaries))
    # each inserted canary appears 3 times among 100 ordinary records, 30 epochs (observed:
    # inserted canaries at the 9-bit ceiling, kept-aside ones at 0.7 bits, lm-loss AUC 1.0)
    lm = train_tiny_lm(corpus[:100] + inserted * 3, tokenizer, epochs=30, seed=0)
    target = CausalLMTarget(lm.model, lm.tokenizer, batch_size=64)
    report = canary_exposure(target, fmt, inserted, kept_aside, alternatives=500, seed=0)
    exposure = {c.text: c for c in report.canaries}
    inside = np.array([exposure[c].exposure for c in inserted])
    outside = np.array([exposure[c].exposure for c in kept_aside])
    # log2(501) ≈ 9 bits is the most 500 alternatives can show
    assert inside.max() <= np.log2(501) + 1e-9
    assert np.median(inside) > np.median(outside) + 3  # bits
    assert report.membership.attack("lm-loss").auc.value > 0.9
    extrapolated = np.array([exposure[c].exposure_extrapolated for c in inserted])
    assert np.median(extrapolated) > np.median(inside) - 1  # reaches beyond the sample
    document = report.to_dict()
    assert document["space"] == 10**8 and len(document["canaries"]) == 60
    written = report.write(tmp_path)
    assert json.loads((tmp_path / "canaries.json").read_text())["format"] == fmt.template
    assert {p.name for p in written} == {"canaries.json", "report.json", "report.html", "report.md"}
    with pytest.raises(InputError, match="does not follow the format"):
        canary_exposure(target, fmt, ["the patient's record number is 12-34"], kept_aside)
    with pytest.raises(InputError, match="no '#' slot"):
        CanaryFormat("no secret here")


def test_neighbourhood_attack_compares_with_masked_lm_neighbours(
    tiny_lm: DemoLM, masked_lm: Any
) -> None:
    from miaudit.signals.lm import mean_loss
    from miaudit.targets.masked_lm import MaskedLMNeighbours

    target, members, nonmembers, _ = tiny_lm
    mlm = masked_lm
    generator = MaskedLMNeighbours(mlm, target.tokenizer, n=4, seed=3)
    made = generator.neighbours(members[:3])
    assert made == MaskedLMNeighbours(mlm, target.tokenizer, n=4, seed=3).neighbours(
        members[:3]
    )  # seeded
    for text, group in zip(members[:3], made, strict=True):
        original = target.tokenizer(text, add_special_tokens=False)["input_ids"]
        for neighbour in group:
            assert neighbour != text
            changed = target.tokenizer(neighbour, add_special_tokens=False)["input_ids"]
            if len(changed) == len(original):  # re-tokenising may merge the new token
                assert sum(a != b for a, b in zip(changed, original, strict=True)) == 1
    result = audit(target, members, nonmembers, attacks=["neighbourhood"], masked_lm=generator)
    scores = result.score_table.scores["neighbourhood"]
    texts = members + nonmembers
    neighbours = generator.neighbours(texts)
    expected = mean_loss(target.token_stats(texts)) - np.array(
        [mean_loss(target.token_stats(group)).mean() for group in neighbours]
    )
    # higher = member; float32 model: the audit batches neighbours of other texts together,
    # which changes the padding and so the last bits of a loss (seen: 5.7e-8 relative)
    np.testing.assert_allclose(scores, -expected, rtol=1e-6)
    skipped = audit(target, members, nonmembers, attacks=["neighbourhood"])
    assert "masked_lm=MaskedLMNeighbours" in skipped.skipped[0].reason
    with pytest.raises(InputError, match="mask token"):
        MaskedLMNeighbours(mlm, type("NoMask", (), {"mask_token_id": None})())


def _audit_from_config(config: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``miaudit audit --config CONFIG``, in this process (torch and transformers are imported
    already; the entry point is tests/cli's)."""
    return run_in_process(["audit", "--config", str(config), "--out", str(out), "--quiet"])


def test_audit_a_checkpoint_from_a_config_file(tiny_lm: DemoLM, tmp_path: Path) -> None:
    target, members, nonmembers, _ = tiny_lm
    target.model.save_pretrained(tmp_path / "checkpoint")  # safetensors by default
    target.tokenizer.save_pretrained(tmp_path / "checkpoint")
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps({"body": t}) for t in members))
    (tmp_path / "heldout.txt").write_text("\n".join(nonmembers))
    (tmp_path / "audit.toml").write_text("""
[target]
kind = "transformers"
path = "checkpoint"

[data]
members = "train.jsonl"
nonmembers = "heldout.txt"
text = "body"

[audit]
attacks = ["lm-loss", "blind-baseline"]

[report]
formats = ["json"]
fail_on = ["auc>0.8"]
""")
    done = _audit_from_config(tmp_path / "audit.toml", tmp_path / "r")
    assert done.returncode == 1, done.stderr  # lm-loss AUC ≈ 0.92 breaches auc>0.8
    assert "auc>0.8: lm-loss auc" in done.stderr  # the blind baseline is not the worst case
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["target"]["kind"] == "transformers"
    (tmp_path / "checkpoint" / "model.safetensors").unlink()
    torch.save({}, tmp_path / "checkpoint" / "pytorch_model.bin")
    refused = _audit_from_config(tmp_path / "audit.toml", tmp_path / "r")
    assert refused.returncode == 2 and "pickled weights run code" in refused.stderr


def test_language_model_audits_take_the_same_validation(tiny_lm: DemoLM) -> None:
    # before the one pipeline, an LM audit accepted all of these silently
    target, members, nonmembers, _ = tiny_lm
    for settings, message in [
        ({"delta": 5.0}, "delta must be in"),
        ({"confidence": 0.2}, "confidence must be in"),
        ({"attacks": ["lm-loss", "lm-loss"]}, "repeated"),
        ({"fprs": [1.5]}, "fprs must be in"),
        ({"reference_models": 2}, "reference models are for classifiers"),
        ({"attack_params": {"lm-loss": {"k": 1}}}, "takes no parameters"),
    ]:
        with pytest.raises(InputError, match=message):
            audit(target, members, nonmembers, **settings)
    with pytest.raises(InputError, match=r"CausalLMTarget\(model, tokenizer\)"):
        audit(target.model, members, nonmembers)  # a bare causal LM: it needs its tokenizer


def test_two_text_files_without_ids_do_not_collide(tiny_lm: DemoLM, tmp_path: Path) -> None:
    target, members, nonmembers, _ = tiny_lm
    (tmp_path / "a.txt").write_text("\n".join(members))
    (tmp_path / "b.txt").write_text("\n".join(nonmembers))
    a, b = TextRecords.from_file(tmp_path / "a.txt"), TextRecords.from_file(tmp_path / "b.txt")
    assert a.ids[0] == b.ids[0] == "texts-0"  # numbered automatically, in each file
    result = audit(target, a, b, attacks=["lm-loss"])
    ids = result.score_table.ids
    assert ids[0] == "members-0" and ids[len(members)] == "non-members-0"
    assert len(set(ids)) == len(ids)
    given = TextRecords.from_texts(members, ids=[f"m{i}" for i in range(len(members))])
    assert audit(target, given, b, attacks=["lm-loss"]).score_table.ids[0] == "m0"


def test_the_docs_example_runs_verbatim(
    tiny_lm: DemoLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "llm.md"
    code = docs.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    target, members, nonmembers, _ = tiny_lm
    target.model.save_pretrained(tmp_path / "checkpoints" / "my-finetune")
    target.tokenizer.save_pretrained(tmp_path / "checkpoints" / "my-finetune")
    for name, texts in (("finetune_train.jsonl", members), ("heldout.jsonl", nonmembers)):
        (tmp_path / name).write_text("\n".join(json.dumps({"text": t}) for t in texts))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(docs), "exec"), {})
    report = json.loads((tmp_path / "llm-report" / "report.json").read_text())
    assert report["records"]["n_members"] == len(members)
    assert max(a["auc"] for a in report["attacks"] if a["name"] == "lm-loss") > 0.8


def test_a_config_file_names_a_reference_lm_and_a_masked_lm(
    tiny_lm: DemoLM, reference_lm: CausalLMTarget, masked_lm: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from miaudit.cli import main

    target, members, nonmembers, _ = tiny_lm
    for name, model in (
        ("model", target.model),
        ("base", reference_lm.model),
        ("mlm", masked_lm),
    ):
        model.save_pretrained(tmp_path / name)
        target.tokenizer.save_pretrained(tmp_path / name)
    (tmp_path / "train.txt").write_text("\n".join(members))
    (tmp_path / "heldout.txt").write_text("\n".join(nonmembers))
    (tmp_path / "audit.toml").write_text(
        '[target]\nkind = "transformers"\npath = "model"\nreference_lm = "base"\n'
        'masked_lm = "mlm"\nneighbours = 2\n\n'
        '[data]\nmembers = "train.txt"\nnonmembers = "heldout.txt"\n\n'
        '[audit]\nattacks = ["reference", "neighbourhood"]\nsensitive_data = true\n'
    )
    out = tmp_path / "r"
    done = CliRunner().invoke(
        main, ["audit", "--config", str(tmp_path / "audit.toml"), "--out", str(out), "--quiet"]
    )
    assert done.exit_code == 0, done.output
    report = json.loads((out / "report.json").read_text())
    assert [a["name"] for a in report["attacks"]] == ["reference", "neighbourhood"]
    assert report["skipped_attacks"] == []
    assert next(a for a in report["attacks"] if a["name"] == "reference")["auc"] > 0.8
    assert report["sensitive_data"] is True
    assert any("marked sensitive" in f["message"] for f in report["findings"])
    (tmp_path / "bad.toml").write_text(
        '[target]\nkind = "sklearn"\npath = "m.joblib"\ntrust = true\nmasked_lm = "mlm"\n'
        '[data]\nmembers = "train.txt"\nnonmembers = "heldout.txt"\n'
    )
    refused = CliRunner().invoke(main, ["audit", "--config", str(tmp_path / "bad.toml")])
    assert refused.exit_code == 2


def test_token_statistics_match_float64_and_keep_near_certain_tokens() -> None:
    from miaudit.targets.lm import _statistics

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 6, 4000, generator=generator) * 3
    logits[0, 0, 17] = 40.0  # p ≈ 1 − 1e-14: a float32 softmax would round its log p to 0
    row, column = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 3, 2, 5])
    target = torch.tensor([17, 5, 99, 3999])
    chosen, mean, std, correct = _statistics(logits, row, column, target)
    exact = torch.log_softmax(logits[row, column].double(), -1)
    p = exact.exp()
    expected_mean = (p * exact).sum(-1)
    expected_std = ((p * exact.square()).sum(-1) - expected_mean.square()).sqrt()
    truth = exact.gather(1, target[:, None])[:, 0].numpy()
    # log p of the near-certain token, precisely: −log1p(Σ_{j≠top} exp(x_j − x_top)) in float64
    # (float64 log_softmax itself keeps only about 4 digits of this 3e-12)
    shifted = logits[0, 0].double() - 40.0
    truth[0] = -np.log1p(np.exp(np.delete(shifted.numpy(), 17)).sum())
    assert -4e-12 < chosen[0] < -2e-12  # not rounded to certainty
    np.testing.assert_allclose(chosen, truth, rtol=1e-6)
    np.testing.assert_allclose(mean, expected_mean.numpy(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(std, expected_std.numpy(), rtol=1e-4, atol=1e-6)
    assert correct.tolist() == (exact.argmax(-1) == target).tolist()
