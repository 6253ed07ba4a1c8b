"""A report read back from its JSON is the same report: ``result_from_dict(d).to_dict() == d``
for audits that fill every part of the schema, and it renders and gates as the original."""

from __future__ import annotations

import dataclasses
import json
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
