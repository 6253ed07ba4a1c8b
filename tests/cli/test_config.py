"""Config files: TOML and YAML, validated, with errors that name the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from miaudit.cli.config import load_config
from miaudit.errors import InputError

GOOD_TOML = """
[target]
kind = "sklearn"
path = "model.joblib"
trust = true

[data]
members = "members.csv"
nonmembers = "nonmembers.csv"
label = "diagnosis"

[audit]
attacks = ["loss", "gap"]
seed = 3

[report]
fail_on = ["auc>0.7"]
"""


def test_toml_and_yaml_agree(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD_TOML)
    (tmp_path / "a.yaml").write_text(
        "target: {kind: sklearn, path: model.joblib, trust: true}\n"
        "data: {members: members.csv, nonmembers: nonmembers.csv, label: diagnosis}\n"
        "audit: {attacks: [loss, gap], seed: 3}\nreport: {fail_on: ['auc>0.7']}\n"
    )
    toml, yaml = load_config(tmp_path / "a.toml"), load_config(tmp_path / "a.yaml")
    assert toml.model_dump() == yaml.model_dump()
    assert toml.resolve("members.csv") == tmp_path.resolve() / "members.csv"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_TOML.replace('kind = "sklearn"', 'kind = "keras"'), r"target\.kind"),
        (GOOD_TOML.replace("seed = 3", 'seed = "three"'), r"audit\.seed"),
        (GOOD_TOML + "\n[extra]\nx = 1\n", r"extra: Extra inputs"),
        (GOOD_TOML.replace('label = "diagnosis"', 'lable = "diagnosis"'), r"data\.lable"),
        (GOOD_TOML.replace("seed = 3", "delta = 2"), r"audit\.delta"),
        (GOOD_TOML.replace('path = "model.joblib"\n', ""), r"target\.path: required"),
        ("[target\nkind=", "not valid TOML"),
    ],
)
def test_bad_configs_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("target: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(path)


def test_every_target_kind_has_a_loader() -> None:
    from typing import get_args

    from miaudit.cli.config import TargetConfig
    from miaudit.cli.sources import TARGET_LOADERS

    assert set(get_args(TargetConfig.model_fields["kind"].annotation)) == set(TARGET_LOADERS)


def test_the_reference_design_from_the_command_line() -> None:
    from click.testing import CliRunner

    from miaudit.cli import main

    # the demo has no population: a population design cannot train, and says why (exit 2)
    done = CliRunner().invoke(
        main,
        ["demo", "--reference-models", "2", "--reference-design", "population", "--quiet"],
    )
    assert done.exit_code == 2
    assert "design population" in done.output and "larger population" in done.output


def test_tuning_and_text_attack_parameters_from_a_config(tmp_path: Path) -> None:
    from miaudit.cli.config import audit_options

    text = GOOD_TOML.replace(
        "seed = 3",
        'seed = 3\ntune = false\nreference_design = "audited"\n'
        '[audit.attack_params.lira-online]\nvariance = "global"',
    )
    (tmp_path / "c.toml").write_text(text)
    options = audit_options(load_config(tmp_path / "c.toml"), tmp_path / "c.toml")
    assert options.tune is False and options.reference.design == "audited"
    assert dict(options.attack_params["lira-online"]) == {"variance": "global"}
    (tmp_path / "bad.toml").write_text(GOOD_TOML.replace("seed = 3", 'tune = "maybe"'))
    with pytest.raises(InputError, match=r"audit\.tune"):
        load_config(tmp_path / "bad.toml")
