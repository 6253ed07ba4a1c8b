"""Config files: TOML and YAML, validated, with errors that name the bad field."""

from __future__ import annotations

import re
from pathlib import Path

import click
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


def test_every_target_kind_is_accepted_by_the_config_and_listed_in_the_docs(
    tmp_path: Path,
) -> None:
    from miaudit.targets.kinds import TARGET_KINDS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "config.md").read_text()
    listed = re.search(r'kind = "sklearn" +# (.+)', docs)
    assert listed is not None
    assert [k.strip() for k in listed.group(1).split("|")] == list(TARGET_KINDS)
    for name, kind in TARGET_KINDS.items():
        assert callable(kind.load)
        config = GOOD_TOML.replace('kind = "sklearn"', f'kind = "{name}"')
        config = config.replace(
            "trust = true",
            'trust = true\nfunction = "m:f"\nclasses = 2\n'
            'url = "http://127.0.0.1:1/v1/models/m:predict"',
        )
        (tmp_path / f"{name}.toml").write_text(config)
        assert load_config(tmp_path / f"{name}.toml").target.kind == name


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


def test_the_docs_table_of_choices_is_generated_from_the_declarations() -> None:
    from miaudit.cli.config import choices_table

    docs = (Path(__file__).resolve().parents[2] / "docs" / "config.md").read_text()
    table = re.search(r"<!-- choices: generated -->\n(.*?)<!-- /choices -->", docs, re.S)
    assert table is not None and table.group(1) == choices_table()


def test_the_config_schema_is_derived_from_the_options_dataclasses() -> None:
    import dataclasses

    from miaudit.audit.options import GROUPS, KEYWORDS
    from miaudit.cli.config import GATE_KEYS, AuditConfig, OutputOptions, ReportConfig
    from miaudit.gate import GateOptions

    # every [audit] default is the dataclass's own: a default changed there changes here
    for key, info in AuditConfig.model_fields.items():
        group, name = KEYWORDS[key]
        found = {f.name: f for f in dataclasses.fields(GROUPS[group])}[name]
        expected = (
            found.default if found.default is not dataclasses.MISSING else found.default_factory()  # type: ignore[misc]
        )
        default = info.get_default(call_default_factory=True)
        plain = list(expected) if isinstance(expected, tuple) else expected
        plain = dict(plain) if hasattr(plain, "items") else plain
        assert default == plain, key
    report_keys = [f.name for f in dataclasses.fields(OutputOptions)] + list(GATE_KEYS)
    assert list(ReportConfig.model_fields) == report_keys
    assert set(GATE_KEYS) == {f.name for f in dataclasses.fields(GateOptions)}
    assert ReportConfig().tolerance == GateOptions().tolerance  # type: ignore[attr-defined]


def test_file_types_follow_the_dataclass_types() -> None:
    from pathlib import Path as P
    from typing import Any, Literal

    from miaudit.cli.config import file_type
    from miaudit.executors import ExecutorName

    assert file_type(tuple[float, ...]) == list[float]
    assert file_type(str | P | None) == str | None
    assert file_type(ExecutorName | str) is ExecutorName
    assert file_type(Literal["a", "b"]) == Literal["a", "b"]
    assert file_type(Any) is None and file_type(object | None) is None  # Python objects only


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('executor = "spark"', r"audit\.executor: Input should be 'local', 'inline' or 'ray'"),
        ('reference_design = "some"', r"audit\.reference_design: Input should be 'all'"),
        ("tolerance = 2.0", r"report\.tolerance must be in \[0, 1\)"),
        ('fail_on = ["auc>>1"]', r"invalid config: report"),
    ],
)
def test_bad_choices_and_gate_values_name_the_field(
    tmp_path: Path, line: str, message: str
) -> None:
    section = "[report]" if line.startswith(("tolerance", "fail_on")) else "[audit]"
    text = GOOD_TOML.replace("seed = 3", "seed = 3\n" if section == "[report]" else line)
    if section == "[report]":
        text = text.replace('fail_on = ["auc>0.7"]', line)
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_cli_choices_come_from_the_declarations() -> None:
    from typing import get_args

    from miaudit.audit.options import Design
    from miaudit.cli import main
    from miaudit.executors import ExecutorName
    from miaudit.targets.exposure import ClassifierOutput
    from miaudit.targets.kserve import Protocol

    def choices(command: str, option: str) -> list[str]:
        params = {p.name: p for p in main.get_command(click.Context(main), command).params}
        return list(params[option].type.choices)  # type: ignore[attr-defined]

    assert choices("audit", "executor") == [e.value for e in ExecutorName]
    assert choices("audit", "reference_design") == list(get_args(Design))
    assert choices("audit", "endpoint_protocol") == [p.value for p in Protocol]
    assert choices("audit", "endpoint_output") == list(get_args(ClassifierOutput))
    assert choices("serve", "protocol") == [p.value for p in Protocol]
    assert choices("serve", "output_kind") == list(get_args(ClassifierOutput))
    assert choices("scan", "protocol") == [p.value for p in Protocol]


def test_attack_parameters_from_a_file_reach_the_attack_as_written(tmp_path: Path) -> None:
    # `k = true` became k = 1 (the schema's float | str, in lax mode, read true as 1.0), and a
    # whole number beyond 2**53 lost its last digits through that float
    from miaudit.attacks import select
    from miaudit.cli.config import audit_options
    from miaudit.targets.interface import Modality

    def params(body: str, suffix: str = "toml") -> dict:
        path = tmp_path / f"c.{suffix}"
        path.write_text(body)
        return dict(audit_options(load_config(path), path).attack_params["label-noise"])

    table = "[audit.attack_params.label-noise]\n"
    found = params(GOOD_TOML.replace("seed = 3", f"seed = 3\n{table}k = true\nstrength = 1"))
    assert found == {"k": True, "strength": 1} and type(found["k"]) is bool
    message = r"parameter k must be in \[1, 10000\] \(a whole number\), got True"
    with pytest.raises(InputError, match=message):
        select(["label-noise"], Modality.CLASSIFIER, params={"label-noise": found})
    big = params(GOOD_TOML.replace("seed = 3", f"seed = 3\n{table}k = 9007199254740993"))
    assert big["k"] == 9007199254740993 and type(big["k"]) is int  # 2**53 + 1, exactly
    with pytest.raises(InputError, match=r"got 9007199254740993 "):
        select(["label-noise"], Modality.CLASSIFIER, params={"label-noise": big})
    yaml = (
        "target: {kind: sklearn, path: model.joblib, trust: true}\n"
        "data: {members: members.csv, nonmembers: nonmembers.csv}\n"
        "audit: {attack_params: {label-noise: {k: true, strength: '0.5'}}}\n"
    )
    assert params(yaml, "yaml") == {"k": True, "strength": "0.5"}
    # what a file gives is kept for the attack's coercion, which takes the valid ones
    valid = params(GOOD_TOML.replace("seed = 3", f'seed = 3\n{table}k = 8\nstrength = "0.5"'))
    chosen = select(["label-noise"], Modality.CLASSIFIER, params={"label-noise": valid})[0]
    assert (chosen.k, chosen.strength) == (8, 0.5) and type(chosen.k) is int


def test_file_types_keep_pydantic_strict_markers() -> None:
    from typing import Annotated

    from pydantic import StrictBool, StrictInt

    from miaudit.cli.config import file_type

    assert file_type(StrictInt) is StrictInt
    assert file_type(dict[str, StrictBool | str]) == dict[str, StrictBool | str]
    assert file_type(Annotated[object, "x"]) is None  # still a Python object only
