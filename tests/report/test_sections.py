"""Result sections as plug-ins: a section defined outside the package — in a module written to
a temporary folder by the test — rides on a result, shows in every format at its place, and
is read back from ``report.json`` typed, without any edit to miaudit.

The throwaway section has the shape dataset inference will have: one verdict for a whole
data set (a p-value and per-split verdicts), not a score per record."""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from miaudit import audit
from miaudit.assess import assess
from miaudit.errors import InputError
from miaudit.report.sections import forget, text_lines
from miaudit.results import SECTION_TYPES, AuditResult, result_from_dict
from miaudit.results.sections import register_section, unregister_section

PLUGIN = '''
"""A section of one verdict per data set, its renderers, and its place."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar

from miaudit.report.sections import View, place, renders
from miaudit.results import Section, register_section


class Call(Enum):
    TRAINED_ON = "trained on"
    NOT_SHOWN = "not shown"


@dataclass(frozen=True)
class SplitVerdict:
    name: str
    p_value: float


@register_section
@dataclass(frozen=True)
class DatasetVerdict(Section):
    kind: ClassVar[str] = "dataset_verdict"
    title: ClassVar[str] = "Dataset verdict"

    p_value: float
    suspects: int
    splits: tuple[SplitVerdict, ...] = ()
    call: Call = Call.NOT_SHOWN
    by_source: dict[str, SplitVerdict] = field(default_factory=dict)
    note: str = ""


@renders("dataset_verdict", "html")
def _html(section: DatasetVerdict, view: View) -> str:
    return (
        f"<h3>{section.title}</h3>\\n<p>p = {section.p_value:.3g} over "
        f"{len(section.splits)} splits, {view.result.n_members} members</p>\\n\\n"
    )


@renders("dataset_verdict", "md")
def _markdown(section: DatasetVerdict, view: View) -> list[str]:
    return ["", f"**Dataset verdict:** p = {section.p_value:.3g}"]


@renders("dataset_verdict", "text")
def _text(section: DatasetVerdict, view: View) -> list[str]:
    return [f"dataset verdict: p = {section.p_value:.3g}"]


place("dataset_verdict", after="attacks")


@register_section
@dataclass(frozen=True)
class Caveat(Section):
    """No renderers: every format shows it generically, at its default place."""

    kind: ClassVar[str] = "caveat_extra"
    title: ClassVar[str] = "A caveat"

    text: str
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The plug-in module, imported from a temporary folder; its registrations undone after."""
    (tmp_path / "miaudit_test_section_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("miaudit_test_section_plugin")
    yield module
    for kind in ("dataset_verdict", "caveat_extra"):
        unregister_section(kind)
        forget(kind)
    sys.modules.pop("miaudit_test_section_plugin", None)


@pytest.fixture(scope="module")
def result(overfit_model: tuple) -> AuditResult:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    return audit(model, (x_in[:150], y_in[:150]), (x_out[:150], y_out[:150]), attacks=["loss"])


def _with_sections(result: AuditResult, plugin: ModuleType) -> AuditResult:
    verdict = plugin.DatasetVerdict(
        0.0123,
        3,
        (plugin.SplitVerdict("train", 0.01), plugin.SplitVerdict("valid", 0.4)),
        plugin.Call.TRAINED_ON,
        {"web": plugin.SplitVerdict("web", 0.02)},
    )
    return dataclasses.replace(result, sections=(verdict, plugin.Caveat("a | pipe")))


def test_a_section_is_shown_in_every_format_at_its_place(
    result: AuditResult, plugin: ModuleType
) -> None:
    extended = _with_sections(result, plugin)
    report = json.loads(extended.render("json"))
    keys = list(report)
    assert keys[keys.index("attacks") + 1] == "dataset_verdict"
    assert keys[keys.index("differential_privacy") + 1] == "caveat_extra"
    assert report["dataset_verdict"] == {
        "p_value": 0.0123,
        "suspects": 3,
        "splits": [{"name": "train", "p_value": 0.01}, {"name": "valid", "p_value": 0.4}],
        "call": "trained on",
        "by_source": {"web": {"name": "web", "p_value": 0.02}},
        "note": "",
    }
    assert report["caveat_extra"] == {"text": "a | pipe"}

    html = extended.render("html")
    fragment = "<h3>Dataset verdict</h3>\n<p>p = 0.0123 over 2 splits, 150 members</p>\n\n"
    assert html.index('<table id="attacks">') < html.index(fragment) < html.index("Model utility")
    generic = "<h3>A caveat</h3>\n<table>\n<tr><th>text</th><td>a | pipe</td></tr>\n</table>\n\n"
    assert html.index("most exposed") < html.index(generic) < html.index("How to read")
    # the sections are the only difference: every other byte is the page without them
    assert html.replace(fragment, "").replace(generic, "") == result.render("html")

    md = extended.render("md").splitlines()
    table = next(n for n, line in enumerate(md) if line.startswith("| attack | AUC |"))
    questions = md.index("| audit question | answer | detail |")
    assert table < md.index("**Dataset verdict:** p = 0.0123") < questions
    assert md[md.index("**A caveat**") :][4] == "| text | a \\| pipe |"
    assert md.index("**A caveat**") > md.index("| audit question | answer | detail |")
    without = "\n".join(md).replace("\n\n**Dataset verdict:** p = 0.0123", "")
    without = without.replace(
        "\n\n**A caveat**\n\n| field | value |\n|---|---|\n| text | a \\| pipe |", ""
    )
    assert without == result.render("md").rstrip("\n")

    assert text_lines(extended, assess(extended)) == [
        "dataset verdict: p = 0.0123",
        "A caveat: text a | pipe",
    ]
    assert text_lines(result, assess(result)) == []


def test_a_section_is_read_back_typed(
    result: AuditResult, plugin: ModuleType, tmp_path: Path
) -> None:
    extended = _with_sections(result, plugin)
    text = extended.render("json")
    loaded = result_from_dict(json.loads(text))
    assert loaded.sections == extended.sections
    verdict = loaded.section("dataset_verdict")
    assert isinstance(verdict, plugin.DatasetVerdict)
    assert isinstance(verdict.splits[0], plugin.SplitVerdict)
    assert isinstance(verdict.by_source["web"], plugin.SplitVerdict)
    assert verdict.call is plugin.Call.TRAINED_ON
    assert loaded.to_dict() == json.loads(text)
    for fmt in ("md", "sarif", "junit"):
        assert loaded.render(fmt) == extended.render(fmt), fmt
    # a reader without the plug-in leaves its keys alone
    unregister_section("dataset_verdict")
    assert [s.kind for s in result_from_dict(json.loads(text)).sections] == ["caveat_extra"]


def test_sections_refuse_what_would_break_the_report(
    result: AuditResult, plugin: ModuleType
) -> None:
    clash = dataclasses.make_dataclass(
        "Clash", [], bases=(plugin.Section,), frozen=True, namespace={"title": "Clash"}
    )
    clash.kind = "attacks"  # the report's own key
    register_section(clash)
    try:
        with pytest.raises(ValueError, match=r"report\.json already has \['attacks'\]"):
            dataclasses.replace(result, sections=(clash(),)).render("json")
    finally:
        unregister_section("attacks")
    other = dataclasses.make_dataclass(
        "Other", [], bases=(plugin.Section,), frozen=True, namespace={"title": "Other"}
    )
    other.kind = "dataset_verdict"
    with pytest.raises(ValueError, match="is taken by"):
        register_section(other)
    other.kind = "Not A Kind"
    with pytest.raises(ValueError, match="lower-case name"):
        register_section(other)
    assert SECTION_TYPES["dataset_verdict"] is plugin.DatasetVerdict


def test_a_damaged_section_is_an_input_error(result: AuditResult, plugin: ModuleType) -> None:
    report = json.loads(_with_sections(result, plugin).render("json"))
    report["dataset_verdict"]["p_value"] = "small"
    with pytest.raises(InputError, match="incomplete or damaged"):
        result_from_dict(report)


def test_the_terminal_summary_shows_the_sections(
    result: AuditResult,
    plugin: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from miaudit.cli.common import finish
    from miaudit.gate import GateOptions

    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    finish(_with_sections(result, plugin), GateOptions(), str(tmp_path), ["json", "md"], False)
    printed = capsys.readouterr().out
    assert "dataset verdict: p = 0.0123" in printed
    assert printed.index("model: train accuracy") < printed.index("dataset verdict: p = 0.0123")
    assert printed.index("dataset verdict") < printed.index("A caveat: text a | pipe")
    assert printed.index("A caveat") < printed.index("risk: ")
    loaded = result_from_dict(json.loads((tmp_path / "report.json").read_text()))
    assert loaded.sections == _with_sections(result, plugin).sections
    assert "**Dataset verdict:** p = 0.0123" in (tmp_path / "report.md").read_text()


def test_a_section_module_in_the_packages_is_found_by_being_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, result: AuditResult
) -> None:
    """miaudit's own sections are one module in ``results/sections/`` and one in
    ``report/sections/``, imported with those packages: no list to edit. The two folders are
    stood in for by temporary ones added to the packages' paths."""
    import miaudit.report.sections as report_sections
    import miaudit.results.sections as result_sections

    data, shown = tmp_path / "data", tmp_path / "shown"
    data.mkdir()
    shown.mkdir()
    (data / "probe_verdict.py").write_text(
        "from dataclasses import dataclass\nfrom typing import ClassVar\n"
        "from miaudit.results.sections import Section, register_section\n\n\n"
        "@register_section\n@dataclass(frozen=True)\nclass ProbeVerdict(Section):\n"
        "    kind: ClassVar[str] = 'probe_verdict'\n"
        "    title: ClassVar[str] = 'Probe verdict'\n\n    p_value: float\n"
    )
    (shown / "probe_verdict.py").write_text(
        "from miaudit.report.sections import renders\n\n\n"
        "@renders('probe_verdict', 'md')\ndef _md(section, view):\n"
        "    return ['', f'probe p = {section.p_value}']\n"
    )
    monkeypatch.setattr(result_sections, "__path__", [*result_sections.__path__, str(data)])
    monkeypatch.setattr(report_sections, "__path__", [*report_sections.__path__, str(shown)])
    try:
        result_sections._import_package_sections()
        report_sections._import_package_renderers()
        verdict = SECTION_TYPES["probe_verdict"](0.5)
        md = dataclasses.replace(result, sections=(verdict,)).render("md")
        assert "\nprobe p = 0.5\n" in md
    finally:
        unregister_section("probe_verdict")
        forget("probe_verdict")
        for package in ("miaudit.results.sections", "miaudit.report.sections"):
            sys.modules.pop(f"{package}.probe_verdict", None)


def test_a_sections_text_is_escaped_in_markdown(result: AuditResult, plugin: ModuleType) -> None:
    """A section's text is not miaudit's: no HTML in it reaches ``report.md`` (as none reaches
    ``report.html``), while the rest of the report is byte for byte as before."""
    loud = dataclasses.make_dataclass(
        "Loud", [], bases=(plugin.Caveat,), frozen=True, namespace={"title": "A <b>caveat</b>"}
    )
    loud.kind = "caveat_extra"
    text = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    md = dataclasses.replace(result, sections=(loud(text),)).render("md")
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    lines = md.splitlines()
    assert "**A &lt;b&gt;caveat&lt;/b&gt;**" in lines
    assert (
        "| text | &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt; |"
    ) in lines
    html = dataclasses.replace(result, sections=(loud(text),)).render("html")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html


def test_a_damaged_section_names_its_field(result: AuditResult, plugin: ModuleType) -> None:
    report = json.loads(_with_sections(result, plugin).render("json"))
    report["dataset_verdict"]["splits"] = [{"name": "train", "p_value": "small"}]
    with pytest.raises(InputError, match=r"\(dataset_verdict\.splits\[0\]\.p_value: expected a"):
        result_from_dict(report)
    report["dataset_verdict"] = [1]
    with pytest.raises(InputError, match=r"\(dataset_verdict: expected an object"):
        result_from_dict(report)
