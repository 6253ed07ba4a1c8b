"""Attack parameters declared as data: one coercion from text, one message for a bad value,
and invalid values generated from the declarations themselves for every attack."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import miaudit
from miaudit.attacks import REGISTRY, Param, create, select
from miaudit.errors import InputError
from miaudit.targets.interface import Modality

DECLARED = [(name, p) for name, attack in REGISTRY.items() for p in attack.parameters]


def invalid_values(param: Param) -> list[Any]:
    """Values the declaration rules out: of the wrong type, and just outside its range or
    choices."""
    if param.kind is bool:
        return ["maybe", 2.5]
    if param.kind is str:
        wrong = [3, 1.5, True]
        return [*wrong, "not-one-of-them"] if param.choices else wrong
    bad: list[Any] = ["x", True, [1], "nan", math.inf]
    if param.low is not None:
        bad.append(param.low if param.low_open else param.low - 1)
    if param.high is not None:
        bad.append(param.high if param.high_open else param.high + 1)
    if param.kind is int:
        bad.append((param.low or 0) + 1.5)  # not a whole number
    return bad


def test_every_attack_declares_a_default_its_range_accepts() -> None:
    assert DECLARED, "no attack declares parameters"
    for name, param in DECLARED:
        made = create(name, **{param.name: param.default})
        assert getattr(made, param.name) == param.default
        assert getattr(REGISTRY[name], param.name) == param.default  # registry: the defaults
        for value in param.tunable:
            assert param.coerce(name, value) == value  # tuning tries only allowed values


@pytest.mark.parametrize(("name", "param"), DECLARED, ids=[f"{n}.{p.name}" for n, p in DECLARED])
def test_invalid_values_get_one_message_naming_attack_parameter_range_and_value(
    name: str, param: Param
) -> None:
    for bad in invalid_values(param):
        expected = f"attack {name}: parameter {param.name} must be {param.allowed()}, got {bad!r}"
        with pytest.raises(InputError, match=re.escape(expected)):
            create(name, **{param.name: bad})
        # the same through the audit's selection (attack_params, the config, the CLI)
        modality = REGISTRY[name].requires.modality
        with pytest.raises(InputError, match=re.escape(expected)):
            select([name], modality, params={name: {param.name: bad}})


@pytest.mark.parametrize(("name", "param"), DECLARED, ids=[f"{n}.{p.name}" for n, p in DECLARED])
def test_text_from_the_command_line_is_coerced_to_the_declared_type(
    name: str, param: Param
) -> None:
    if param.default is None:
        return  # an optional text parameter: nothing to coerce
    text = str(param.default).lower()  # "0.2", "32", "auto", "true"
    made = create(name, **{param.name: text})
    value = getattr(made, param.name)
    assert value == param.default and type(value) is param.kind


def test_the_label_noise_strength_bug_from_the_issue() -> None:
    # `--attack-param label-noise.strength=0.5` failed with
    # "strength must be in (0, 10], got '0.5'": the CLI hands text
    attack = select(
        ["label-noise"], Modality.CLASSIFIER, params={"label-noise": {"strength": "0.5"}}
    )
    assert attack[0].strength == 0.5 and attack[0].fixed == frozenset({"strength"})
    assert create("label-noise", k="8").k == 8 and create("label-noise", k=8.0).k == 8


def test_the_cli_flag_sets_label_noise_strength(tmp_path) -> None:
    import joblib
    import pandas as pd
    from click.testing import CliRunner

    from miaudit.cli import main

    x, y = make_classification(
        n_samples=120, n_features=4, n_informative=2, n_redundant=0, random_state=0
    )
    joblib.dump(LogisticRegression().fit(x[:60], y[:60]), tmp_path / "model.joblib")
    for name, rows in (("members", slice(0, 60)), ("nonmembers", slice(60, 120))):
        frame = pd.DataFrame(x[rows], columns=["a", "b", "c", "d"])
        frame["label"] = y[rows]
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    flags = ["--model", str(tmp_path / "model.joblib"), "--trust-model-file"]
    flags += ["--members", str(tmp_path / "members.csv")]
    flags += ["--nonmembers", str(tmp_path / "nonmembers.csv")]
    flags += ["--attacks", "label-noise", "--out", str(tmp_path / "r"), "--quiet"]
    params = ["--attack-param", "label-noise.strength=0.5", "--attack-param", "label-noise.k=4"]
    done = CliRunner().invoke(main, ["audit", *flags, "--format", "json", *params])
    assert done.exit_code == 0, done.output
    report = (tmp_path / "r" / "report.json").read_text()
    assert "4 noisy copies per record at strength 0.5" in report
    bad = CliRunner().invoke(main, ["audit", *flags, "--attack-param", "label-noise.strength=11"])
    assert bad.exit_code == 2
    assert "attack label-noise: parameter strength must be in (0, 10] (a number)" in bad.output


def test_unknown_parameters_name_what_the_attack_takes() -> None:
    with pytest.raises(InputError, match=r"rmia-online has no parameter a; it takes temperature"):
        create("rmia-online", a=0.5)  # online RMIA has no linear correction
    with pytest.raises(InputError, match=r"attack loss takes no parameters, got \['k'\]"):
        create("loss", k=1)
    with pytest.raises(InputError, match=r"label-noise: image_shape='9x'; write HxW"):
        create("label-noise", image_shape="9x")
    assert create("label-noise", image_shape="none").image_shape is None


def test_tuning_searches_the_declared_tunable_parameters() -> None:
    for name, attack in REGISTRY.items():
        tunable = {p.name: p for p in attack.parameters if p.tunable}
        assert set(attack.params()) == set(tunable), name
        space = attack.search_space()
        assert set(space) == set(tunable), name
        for param_name, values in space.items():
            assert values[0] == getattr(attack, param_name)  # the current setting first
            assert set(values) == {values[0], *tunable[param_name].tunable}
    # a configured attack is a copy: the registry's stays at its defaults
    hot = create("rmia-offline", temperature=4)
    assert hot.search_space()["temperature"] == (4.0, 1.0, 2.0) and hot.temperatures == (4.0,)
    assert REGISTRY["rmia-offline"].temperature == 2.0
    assert REGISTRY["rmia-offline"].requires.signals == ("loss@T=2",)


def test_a_set_parameter_reaches_the_attack_in_an_audit() -> None:
    x, y = make_classification(n_samples=200, n_features=5, random_state=1)
    model = LogisticRegression().fit(x[:100], y[:100])
    result = miaudit.audit(
        model,
        (x[:100], y[:100]),
        (x[100:], y[100:]),
        attacks=["label-noise"],
        attack_params={"label-noise": {"k": "3", "strength": "0.05"}},
    )
    found = result.attack("label-noise")
    assert "3 noisy copies per record at strength 0.05" in found.method
    assert found.queries_per_record == 4  # the record itself and its 3 copies
    assert np.isfinite(found.auc.value)


def test_miaudit_attacks_lists_every_declared_parameter() -> None:
    from click.testing import CliRunner

    from miaudit.cli import main

    done = CliRunner().invoke(main, ["attacks", "--params"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    rows = [line for line in done.output.splitlines() if line.startswith("│")]
    listed = {tuple(cell.strip() for cell in row.split("│")[1:3]) for row in rows}
    listed.discard(("", ""))  # continuation lines of wrapped cells
    assert listed == {(name, p.name) for name, p in DECLARED}
    assert "[audit.attack_params.ATTACK]" in done.output
    plain = CliRunner().invoke(main, ["attacks"], env={"COLUMNS": "200"})
    assert plain.exit_code == 0 and "blind-baseline" in plain.output


def test_booleans_are_never_numbers() -> None:
    for name, param in DECLARED:
        if param.numeric:
            with pytest.raises(InputError, match=r"got True "):
                create(name, **{param.name: True})
            with pytest.raises(InputError, match=r"got False "):
                param.coerce(name, False)


def test_whole_numbers_in_text_are_read_exactly_not_through_a_float() -> None:
    unbounded = Param("n", int, 1)
    assert unbounded.coerce("x", "12345678901234567891") == 12345678901234567891
    assert unbounded.coerce("x", " 9007199254740993 ") == 9007199254740993  # 2**53 + 1
    assert unbounded.coerce("x", "1e3") == 1000 and unbounded.coerce("x", "2.0") == 2
    assert unbounded.coerce("x", "1.2345678901234567891e19") == 12345678901234567891
    for bad in ("1.5", "1e-3", "nan", "inf", "-inf", "x", "", "1e999999999", "9" * 5000):
        with pytest.raises(InputError, match=r"parameter n must be a whole number, got '"):
            unbounded.coerce("x", bad)
    made = create("label-noise", k="1e3")
    assert made.k == 1000 and type(made.k) is int
    with pytest.raises(InputError, match=r"got '12345678901234567891' "):
        create("label-noise", k="12345678901234567891")


def test_numbers_too_large_for_a_float_are_bad_values_not_overflow_errors() -> None:
    for kwargs in ({"temperature": 10**400}, {"gamma": 10**400}, {"a": 10**400}):
        with pytest.raises(InputError, match=r"must be .* \(a number\), got 1000"):
            create("rmia-offline", **kwargs)
    with pytest.raises(InputError, match=r"got 1000"):
        create("min-k", k=10**400)
    # a value too long to write out is still named, briefly
    with pytest.raises(InputError, match=r"got <a whole number of 16,610 bits>"):
        create("label-noise", k=10**5000)
    with pytest.raises(InputError, match=r"got '1111111111.*…"):
        create("label-noise", k="1" * 200)


def test_every_count_has_an_upper_bound() -> None:
    # `--attack-param label-noise.k=1e12` asked numpy for 29.1 TiB: an internal error (exit 3)
    counts = {(name, p.name) for name, p in DECLARED if p.kind is int}
    assert {("label-noise", "k"), ("label-boundary", "directions")} <= counts
    for name, param in DECLARED:
        if param.kind is int:
            assert param.high is not None and param.default <= param.high, (name, param.name)
            with pytest.raises(InputError, match=rf"{param.name} must be in \[.*, .*\]"):
                create(name, **{param.name: "1e12"})
    assert create("label-noise", k=10_000).k == 10_000
    assert create("label-boundary", directions="10000", steps=64).budget == 1 + 10_000 * 65
    for name, values in (("label-noise", {"k": 10_001}), ("label-boundary", {"steps": 65})):
        with pytest.raises(InputError):
            create(name, **values)


def test_a_count_too_large_is_a_usage_error_on_the_command_line(tmp_path) -> None:
    import joblib
    import pandas as pd
    from click.testing import CliRunner

    from miaudit.cli import main

    x, y = make_classification(
        n_samples=40, n_features=3, n_informative=2, n_redundant=0, random_state=2
    )
    joblib.dump(LogisticRegression().fit(x[:20], y[:20]), tmp_path / "model.joblib")
    for name, rows in (("members", slice(0, 20)), ("nonmembers", slice(20, 40))):
        frame = pd.DataFrame(x[rows], columns=["a", "b", "c"])
        frame["label"] = y[rows]
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    flags = ["--model", str(tmp_path / "model.joblib"), "--trust-model-file"]
    flags += ["--members", str(tmp_path / "members.csv")]
    flags += ["--nonmembers", str(tmp_path / "nonmembers.csv"), "--quiet"]
    for param in ("label-noise.k=1e12", "label-boundary.directions=99999999999"):
        attack = param.split(".")[0]
        done = CliRunner().invoke(
            main, ["audit", *flags, "--attacks", attack, "--attack-param", param]
        )
        assert done.exit_code == 2, done.output
        assert "must be in [1, 10000] (a whole number)" in done.output


def test_rmia_temperature_stays_where_the_tempered_losses_are_finite() -> None:
    # temperature=1e-320 made every tempered loss inf − inf = NaN
    from miaudit.attacks.rmia import MIN_TEMPERATURE
    from miaudit.signals.classifier import _tempered_loss

    rng = np.random.default_rng(0)
    p = np.clip(rng.dirichlet(np.full(3, 0.05), size=500), 1e-300, 1.0)
    logp, y = np.log(p / p.sum(axis=1, keepdims=True)), rng.integers(0, 3, 500)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(_tempered_loss(logp, y, 1e-320)).any()  # why there is a floor
    assert np.isfinite(_tempered_loss(logp, y, MIN_TEMPERATURE)).all()
    for name in ("rmia-offline", "rmia-online"):
        for bad in (1e-320, 0.0, MIN_TEMPERATURE / 2):
            with pytest.raises(InputError, match=r"temperature must be in \[0\.001, ∞\)"):
                create(name, temperature=bad)
        assert create(name, temperature=MIN_TEMPERATURE).temperature == MIN_TEMPERATURE
