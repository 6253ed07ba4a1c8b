"""A report read back from its JSON is the same report: ``result_from_dict(d).to_dict() == d``
for audits that fill every part of the schema, and it renders and gates as the original."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import miaudit
from miaudit.errors import InputError
from miaudit.gate import evaluate, parse_conditions
from miaudit.results import read_result, result_from_dict
from miaudit.targets.exposure import Exposure, OutputKind


@pytest.fixture(scope="module")
def results(overfit_model: tuple) -> list[miaudit.AuditResult]:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    members, nonmembers = (x_in[:200], y_in[:200]), (x_out[:200], y_out[:200])
    population = (np.r_[x_in[200:], x_out[200:]], np.r_[y_in[200:], y_out[200:]])
    with_population = miaudit.audit(
        model,
        members,
        nonmembers,
        population,
        reference_models=2,
        dp_epsilon=4.0,
        sensitive_data=True,
        attacks=["loss", "gap", "lira-offline", "rmia-offline", "label-noise"],
    )
    verdict = evaluate(with_population, parse_conditions(["auc>0.6", "tpr@0.01>0.2"]))
    hardened = miaudit.audit(
        miaudit.harden(model, "top-k:2,round:2"), members, nonmembers, attacks=None
    )
    return [dataclasses.replace(with_population, gate=verdict), hardened]


def test_a_report_read_back_is_the_same_report(results: list, tmp_path: Path) -> None:
    for n, result in enumerate(results):
        original = result.to_dict()
        text = json.dumps(original, allow_nan=False)
        loaded = result_from_dict(json.loads(text))
        assert loaded.to_dict() == json.loads(text)
        assert loaded.exposure == result.exposure
        for fmt in ("md", "sarif", "junit"):
            assert loaded.render(fmt) == result.render(fmt), fmt
        assert "<html" in loaded.render("html")  # no per-record scores: no histograms
        path = tmp_path / f"report-{n}.json"
        path.write_text(text)
        assert read_result(path).to_dict() == original
    assert results[0].gate is not None and results[0].gate.checks
    assert results[1].exposure == Exposure(OutputKind.PROBABILITIES, top_k=2, decimals=2)


def test_what_is_not_a_report_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"expected schema 'miaudit\.report/1'"):
        result_from_dict({"schema": "miaudit.compare/1"})
    with pytest.raises(InputError, match="incomplete or damaged"):
        result_from_dict({"schema": "miaudit.report/1", "attacks": []})
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="is not JSON"):
        read_result(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_result(tmp_path / "missing.json")


def test_an_older_report_without_the_later_keys_reads(results: list) -> None:
    """Keys added to the schema after its first reports fall back to their defaults, as the
    hand-written reader did before the reading was derived from the dataclasses."""
    data = json.loads(json.dumps(results[0].to_dict()))
    for key in ("sensitive_data", "reference_models", "notes", "source", "class_names"):
        del data[key]
    del data["subjects"], data["differential_privacy"]["ceiling"]
    del data["gate"]["tolerance"], data["gate"]["soft_fail"]
    for attack in data["attacks"]:
        for key in ("calibrated_by", "access", "queries_per_record", "method", "epsilon_gdp"):
            attack.pop(key, None)
        for rate in attack["tpr_at_fpr"].values():
            rate.pop("achieved_fpr", None)
    loaded = result_from_dict(data)
    assert (loaded.sensitive_data, loaded.reference, loaded.notes, loaded.source) == (
        False,
        None,
        (),
        None,
    )
    assert (loaded.subjects, loaded.epsilon_ceiling, loaded.class_names) == ("records", None, None)
    assert loaded.gate is not None and (loaded.gate.tolerance, loaded.gate.soft) == (0.0, False)
    first = loaded.attacks[0]
    assert (first.access, first.method, first.epsilon_gdp, first.queries_per_record) == (
        "",
        "",
        None,
        None,
    )
    assert all(t.achieved_fpr is None for t in first.tpr_at_fpr)
    assert first.tpr_at_fpr == tuple(
        dataclasses.replace(t, achieved_fpr=None) for t in results[0].attacks[0].tpr_at_fpr
    )
    assert loaded.render("md")  # and it renders


def test_a_value_of_the_wrong_type_is_refused(results: list) -> None:
    data = json.loads(json.dumps(results[1].to_dict()))
    data["records"]["n_members"] = "many"
    with pytest.raises(InputError, match=r"incomplete or damaged.*n_members"):
        result_from_dict(data)
    data = json.loads(json.dumps(results[1].to_dict()))
    data["attacks"] = {"not": "a list"}
    with pytest.raises(InputError, match="incomplete or damaged"):
        result_from_dict(data)


def _damaged(result: miaudit.AuditResult, change: Callable[[dict], object]) -> dict:
    data = json.loads(json.dumps(result.to_dict()))
    change(data)
    return data


def _first_rate(data: dict) -> dict:
    rates = data["attacks"][0]["tpr_at_fpr"]
    return rates[next(k for k, v in rates.items() if v["value"] is not None)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(target=[]), r"target: expected an object"),
        (lambda d: d.update(target="x"), r"target: expected an object"),
        (lambda d: d.update(class_names=[1]), r"class_names: expected an object"),
        (lambda d: d.update(class_names={"0": 5}), r"class_names\[\"0\"\]: expected a string"),
        (lambda d: d.update(reference_models=[1]), r"reference_models: expected an object"),
        (lambda d: d.update(reference_models={"n_models": "8"}), r"reference_models: 'n_models'"),
        (lambda d: d["attacks"][0].update(tpr_at_fpr=[1]), r"attacks\[0\]\.tpr_at_fpr: expected"),
        (
            lambda d: d["attacks"][0].update(tpr_at_fpr={"0.1": [1]}),
            r"attacks\[0\]\.tpr_at_fpr\[\"0\.1\"\]: expected an object",
        ),
        (
            lambda d: d["attacks"][0].update(tpr_at_fpr={"0.1": "s"}),
            r"attacks\[0\]\.tpr_at_fpr\[\"0\.1\"\]: expected an object",
        ),
        (
            lambda d: d["attacks"][0].update(tpr_at_fpr={"abc": {"value": None}}),
            r"attacks\[0\]\.tpr_at_fpr\[\"abc\"\]: the key 'abc' is not a number",
        ),
        (lambda d: d["attacks"][0].update(epsilon=[["value", 1]]), r"attacks\[0\]\.epsilon: exp"),
        (lambda d: d.update(records="n_members"), r"records: expected an object"),
        (lambda d: d.update(differential_privacy=5), r"differential_privacy: expected an object"),
        (lambda d: d.update(attacks=[5]), r"attacks\[0\]: expected an object"),
        (lambda d: d["attacks"][0].pop("roc"), r"attacks\[0\]\.roc: missing"),
    ],
)
def test_a_damaged_shape_is_an_input_error_naming_the_field(
    results: list, change: Callable[[dict], object], field: str
) -> None:
    """Lists, strings or numbers where the report has objects (and the reverse) are refused
    as damage, never an ``AttributeError`` or ``TypeError`` escaping from the reader."""
    with pytest.raises(InputError, match=r"report\.json is incomplete or damaged \(" + field):
        result_from_dict(_damaged(results[1], change))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["attacks"][0].update(auc=5.0), r"attacks\[0\]\.auc: must be between 0 and 1"),
        (lambda d: d["attacks"][0].update(auc=float("nan")), r"attacks\[0\]\.auc: expected a fin"),
        (lambda d: d["attacks"][0].update(auc=float("inf")), r"attacks\[0\]\.auc: expected a fin"),
        (lambda d: d["attacks"][0].update(auc="0.9"), r"attacks\[0\]\.auc: expected a number"),
        (lambda d: d["attacks"][0].update(auc_ci=[0.1, 7]), r"attacks\[0\]\.auc_ci\[1\]: must be"),
        (lambda d: d["attacks"][0].update(advantage=-2), r"attacks\[0\]\.advantage: must be"),
        (lambda d: d["records"].update(n_members=-5), r"records\.n_members: must be at least 0"),
        (lambda d: d["records"].update(n_members=3.0), r"records\.n_members: expected a whole"),
        (lambda d: d["records"].update(n_members=True), r"records\.n_members: expected a whole"),
        (lambda d: d.update(sensitive_data="yes"), r"sensitive_data: expected true or false"),
        (lambda d: d.update(sensitive_data=1), r"sensitive_data: expected true or false"),
        (lambda d: d["settings"].update(fprs=[5]), r"settings\.fprs\[0\]: must be between 0 and 1"),
        (lambda d: d["model"].update(train_accuracy=1.5), r"model\.train_accuracy: must be"),
        (
            lambda d: _first_rate(d).update(value=-0.5),
            r"attacks\[0\]\.tpr_at_fpr\[\"[0-9.]+\"\]\.value: must be between 0 and 1",
        ),
        (
            lambda d: d["attacks"][0]["roc"].update(fpr=[0.0]),
            r"attacks\[0\]\.roc\.tpr: has \d+ entries but attacks\[0\]\.roc\.fpr has 1",
        ),
        (
            lambda d: d["attacks"][0]["roc"].update(tpr=[0.0, 2.0] * 10, fpr=[0.0, 1.0] * 10),
            r"attacks\[0\]\.roc\.tpr\[1\]: must be between 0 and 1",
        ),
        (
            lambda d: d["attacks"][0]["epsilon"].update(value=-1.0),
            r"attacks\[0\]\.epsilon\.value: must be at",
        ),
    ],
)
def test_an_impossible_value_is_refused_naming_the_field(
    results: list, change: Callable[[dict], object], field: str
) -> None:
    """A value of the right shape but an impossible one — an AUC of 5, NaN, a negative count,
    a number written as a string, an ROC whose lists differ in length — is damage, not data
    to render."""
    with pytest.raises(InputError, match=r"incomplete or damaged \(" + field):
        result_from_dict(_damaged(results[1], change))


def _nested_deeply(data: dict) -> str:
    """``data`` as JSON with a list nested 100,000 deep in it (deeper than Python recurses)."""
    text = json.dumps({**data, "deep": "HERE"})
    assert text.count('"HERE"') == 1
    return text.replace('"HERE"', "[" * 100_000 + "]" * 100_000)


def test_a_file_nested_too_deeply_is_refused_naming_it(results: list, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(_nested_deeply(results[1].to_dict()))
    with pytest.raises(InputError, match=r"deep\.json is nested too deeply"):
        read_result(deep)
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(_damaged(results[1], lambda d: d.update(target=[]))))
    with pytest.raises(InputError, match=r"damaged\.json is incomplete or damaged \(target"):
        read_result(damaged)


def test_a_damaged_stored_variant_is_audited_again(results: list, tmp_path: Path) -> None:
    """``compare --resume`` treats a stored variant it cannot read back as missing."""
    from miaudit.defences.store import VariantStore

    store = VariantStore(tmp_path, "records", {"seed": 0})
    store.put("plain", "fp", results[1], 1.5)
    stored = store.get("plain", "fp")
    assert stored is not None and stored[1] == 1.5
    assert stored[0].to_dict() == results[1].to_dict()
    path = next(tmp_path.glob("variant-*.json"))
    entry = json.loads(path.read_text())
    damages: list[Callable[[dict], object]] = [
        lambda e: e["report"].update(target=[]),
        lambda e: e["report"].update(class_names=[1]),
        lambda e: e["report"]["attacks"][0].update(auc=5.0),
        lambda e: e["report"]["attacks"][0]["roc"].update(fpr=[0.0]),
        lambda e: e.update(train_seconds=float("nan")),
        lambda e: e.update(train_seconds=[1]),
        lambda e: e.update(report=[]),
    ]
    for damage in damages:
        damaged = json.loads(json.dumps(entry))
        damage(damaged)
        path.write_text(json.dumps(damaged))
        assert store.get("plain", "fp") is None
    path.write_text(_nested_deeply(entry))
    assert store.get("plain", "fp") is None
    assert store.loaded == ["plain"]
