"""The one format interface and the SARIF and JUnit builders (src/miaudit/formats.py,
sarif.py, junit.py): a report format added from outside the package is written by
``miaudit.report.write`` and ``miaudit audit --format``; hostile strings stay data in XML and
JSON; rule ids stay with their rules; every SARIF miaudit writes (audit, scan, monitor,
compare) passes the GitHub code-scanning schema the CI tests use."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import numpy as np
import pytest

from miaudit import SklearnTarget, audit, junit, sarif
from miaudit.errors import InputError
from miaudit.results import AuditResult

HOSTILE = "a \"quoted\" <tag> & 'apostrophe' \\ back\nslash\x00nul\x1besc\ud800 ]]> </script> é"
#: What XML 1.0 can hold of HOSTILE: NUL, ESC and the lone surrogate become U+FFFD.
HOSTILE_IN_XML = (
    HOSTILE.replace("\x00", "\ufffd").replace("\x1b", "\ufffd").replace("\ud800", "\ufffd")
)

PLUGIN = '''
from miaudit.report import ReportFormat, register_format


@register_format
class RiskLine(ReportFormat):
    """A one-line summary: the risk level and the number of attacks."""

    name = "risk-line"
    filename = "risk.txt"

    def render(self, result, assessment=None):
        from miaudit.assess import assess

        risk = (assessment or assess(result)).risk
        return f"risk={risk.level} attacks={len(result.attacks)}\\n"
'''


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def github_schema() -> dict[str, Any]:
    """The SARIF properties GitHub code scanning requires, as tests/cli/test_ci.py states
    them (one statement of the schema for the whole suite)."""
    return _load(
        Path(__file__).parent / "cli" / "test_ci.py", "_ci_sarif_schema"
    ).GITHUB_SARIF_SCHEMA


@pytest.fixture(scope="module")
def result(overfit_model: tuple) -> AuditResult:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    return audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), attacks=["loss"])


def test_a_report_format_from_outside_the_package_is_written_by_write_and_the_cli(
    tmp_path: Path, result: AuditResult, cli
) -> None:
    from miaudit.report import FORMATS, write

    plugin = tmp_path / "risk_line_plugin.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    _load(plugin, "risk_line_plugin")
    try:
        assert "risk-line" in FORMATS
        (path,) = write(result, tmp_path / "py", ["risk-line"])
        assert path.name == "risk.txt"
        line = path.read_text()
        assert line.startswith("risk=") and line.endswith(" attacks=1\n")
        # the command line, in process: --format takes the new name, 'all' includes it
        outputs = tmp_path / "outputs.csv"
        rng = np.random.default_rng(0)
        rows = [f"{i},{i % 2},{int(i < 40)},{rng.normal(3 if i < 40 else 0)},0" for i in range(80)]
        outputs.write_text("id,label,member,logit_0,logit_1\n" + "\n".join(rows) + "\n")
        out = tmp_path / "cli"
        done = cli("audit", "--outputs", str(outputs), "--attacks", "loss", "--quiet",
                   "--format", "json,risk-line", "--out", str(out))  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in out.iterdir()) == ["report.json", "risk.txt"]
        risk = json.loads((out / "report.json").read_text())["risk"]["level"]
        assert (out / "risk.txt").read_text() == f"risk={risk} attacks=1\n"
        done = cli("audit", "--outputs", str(outputs), "--attacks", "loss", "--quiet",
                   "--format", "all", "--out", str(tmp_path / "all"))  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "all" / "risk.txt").exists()
    finally:
        FORMATS.unregister("risk-line")
        sys.modules.pop("risk_line_plugin", None)
    assert "risk-line" not in FORMATS
    with pytest.raises(InputError, match="unknown report format 'risk-line'"):
        write(result, tmp_path / "gone", ["risk-line"])


def test_a_registry_refuses_taken_names_and_paths_as_file_names() -> None:
    from miaudit.formats import Format, Formats

    class Text(Format[str]):
        name = "text"
        filename = "out.txt"

        def render(self, subject: str, /) -> str:
            return subject

    class Escaping(Text):
        name = "escaping"
        filename = "../out.txt"

    class All(Text):
        name = "all"

    registry: Formats[str] = Formats("sample", [Text()])
    with pytest.raises(InputError, match="already registered"):
        registry.register(Text)
    with pytest.raises(InputError, match="plain file name"):
        registry.register(Escaping)
    with pytest.raises(InputError, match="other than 'all'"):
        registry.register(All)
    registry.register(Text, replace=True)
    assert list(registry) == ["text"] and [f.name for f in registry.select(["all"])] == ["text"]
    with pytest.raises(InputError, match="unknown sample format 'pdf'; available: text"):
        registry.select(["text", "pdf"])


def _run(rules: list[sarif.Rule], message: str = "found", **properties: Any) -> sarif.Run:
    where = sarif.Location("model/train.py", region=(1, 1))
    results = [
        sarif.Result(r.id, "warning", f"{message} {r.id}", where, {"k/v1": r.id}, properties)
        for r in rules
    ]
    return sarif.Run("tool", rules, results, version="1.0")


RULES = [
    sarif.Rule(
        f"MIA9{n:02d}",
        f"Rule{n}",
        f"summary {n}",
        description=f"description {n}",
        help=f"help {n}",
        severity=5.0,
        tags=("security",),
    )
    for n in range(1, 4)
]


def test_sarif_keeps_hostile_strings_as_data(github_schema: dict[str, Any]) -> None:
    text = sarif.render(_run(RULES, HOSTILE, score=math.nan, limit=math.inf, nested=[math.nan]))
    document = json.loads(text)  # valid JSON: no NaN, every character escaped
    jsonschema.validate(document, github_schema)
    result = document["runs"][0]["results"][0]
    assert result["message"]["text"] == f"{HOSTILE} MIA901"
    assert result["properties"] == {"score": None, "limit": None, "nested": [None]}
    assert text.isascii()  # every other character escaped: \u0000, \u001b, \ud800, \u00e9


def test_sarif_rule_ids_stay_with_their_rules_when_the_rules_are_reordered() -> None:
    forward = json.loads(sarif.render(_run(RULES)))["runs"][0]
    backward = json.loads(sarif.render(_run(RULES[::-1])))["runs"][0]
    for run in (forward, backward):
        rules = run["tool"]["driver"]["rules"]
        for found in run["results"]:
            assert found["message"]["text"] == f"found {found['ruleId']}"
            assert rules[found["ruleIndex"]]["id"] == found["ruleId"]
    assert {r["id"]: r for r in forward["tool"]["driver"]["rules"]} == {
        r["id"]: r for r in backward["tool"]["driver"]["rules"]
    }
    with pytest.raises(ValueError, match="does not list"):
        sarif.Run("tool", RULES[:1], _run(RULES).results)
    with pytest.raises(ValueError, match="unique"):
        sarif.Run("tool", [RULES[0], RULES[0]], [])
    with pytest.raises(ValueError, match="SARIF level"):
        sarif.Result("MIA901", "fatal", "x", sarif.Location("a"), {"k": "v"})


@pytest.mark.parametrize(
    ("address", "uri", "base"),
    [
        ("traffic.jsonl", "traffic.jsonl", None),
        ("logs/my traffic.jsonl", "logs/my%20traffic.jsonl", None),
        ("/var/log/q.jsonl", "q.jsonl", "file:///var/log/"),
        ("/q.jsonl", "q.jsonl", "file:///"),
        ("http://127.0.0.1:8080/v1/models/iris:predict", "v1/models/iris:predict", "http://127.0.0.1:8080/"),
        ("https://host/models:predict", "./models:predict", "https://host/"),
        ("https://host", ".", "https://host/"),
    ],
)  # fmt: skip
def test_sarif_locations_are_relative_with_a_declared_base(
    address: str, uri: str, base: str | None
) -> None:
    where, bases = sarif.location(address, "BASE")
    assert where.uri == uri
    assert bases == ({} if base is None else {"BASE": base})
    assert where.base_id == (None if base is None else "BASE")


def test_junit_keeps_hostile_strings_as_data() -> None:
    cases = [
        junit.TestCase(HOSTILE, "miaudit.x", junit.Failure(HOSTILE, "t", HOSTILE)),
        junit.TestCase("passes", "miaudit.x", output=HOSTILE),
        junit.TestCase("skipped", "miaudit.x", skipped="no data"),
    ]
    suite = junit.TestSuite(HOSTILE, cases, "2026-01-01T00:00:00+00:00", [("p", HOSTILE)])
    root = ET.fromstring(junit.render(junit.TestSuites("miaudit", [suite])).encode())
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    (parsed,) = root
    assert parsed.get("name") == HOSTILE_IN_XML
    assert (parsed.get("failures"), parsed.get("skipped")) == ("1", "1")
    assert parsed.find("properties/property").get("value") == HOSTILE_IN_XML
    failing, passing, _ = parsed.findall("testcase")
    assert failing.get("name") == HOSTILE_IN_XML
    assert failing.find("failure").get("message") == HOSTILE_IN_XML
    assert failing.find("failure").text == HOSTILE_IN_XML
    assert passing.find("system-out").text == HOSTILE_IN_XML
    single = ET.fromstring(junit.render(suite).encode())  # a single suite as the root
    assert single.tag == "testsuite" and single.get("tests") == "3"


def _scan_result(message: str) -> Any:
    from miaudit.scan import ScanFinding, ScanResult

    findings = [
        ScanFinding("MIA102", "error", message, {"classes": 3, "decimals": 12}),
        ScanFinding("MIA104", "warning", "no rate limit within 30 queries", {}),
    ]
    return ScanResult("http://localhost:8080/v1/models/m:predict", findings, 33,
                      "2026-01-01T00:00:00+00:00", {})  # fmt: skip


def test_the_scan_formats(tmp_path: Path, github_schema: dict[str, Any]) -> None:
    from miaudit.scan import RULES as SCAN_RULES
    from miaudit.scan import write

    paths = write(_scan_result(HOSTILE), tmp_path, ["all"], fail_level="warning")
    assert [p.name for p in paths] == ["scan.json", "scan.sarif", "scan.junit.xml"]
    document = json.loads((tmp_path / "scan.sarif").read_text())
    jsonschema.validate(document, github_schema)
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(SCAN_RULES)
    assert [r["ruleId"] for r in run["results"]] == ["MIA102", "MIA104"]
    assert run["results"][0]["message"]["text"] == HOSTILE
    assert run["originalUriBaseIds"] == {"ENDPOINT": {"uri": "http://localhost:8080/"}}
    suite = ET.parse(tmp_path / "scan.junit.xml").getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures")) == ("testsuite", "5", "2")
    failing = suite.find("testcase/failure")
    assert failing is not None and failing.get("message") == HOSTILE_IN_XML
    none = ET.fromstring(write(_scan_result("x"), tmp_path, ["junit"], "none")[0].read_bytes())
    assert none.get("failures") == "0"
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically: no temporary file left
    with pytest.raises(InputError, match="unknown scan format 'pdf'"):
        write(_scan_result("x"), tmp_path, ["json", "pdf"])
    with pytest.raises(InputError, match="fail level"):
        write(_scan_result("x"), tmp_path, ["json"], fail_level="fatal")


def test_the_monitor_alerts_carry_each_detectors_own_rule_id(
    github_schema: dict[str, Any],
) -> None:
    from miaudit.monitor.alerts import FORMATS, AlertReport
    from miaudit.monitor.detectors import DETECTORS, RULE_IDS
    from miaudit.monitor.engine import Alert

    last = list(DETECTORS)[-1]
    alerts = [
        Alert("k1", ["k1"], last, 9.0, 3.0, 120, 1.5, {"overlap": math.inf}),
        Alert("k2", ["k2", HOSTILE], "volume", 50.0, 10.0, 60, 2.0, {}),
    ]
    report = AlertReport(alerts, "/var/log/miaudit/queries.jsonl", {"queries": 180})
    document = json.loads(FORMATS["sarif"].render(report))
    jsonschema.validate(document, github_schema)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["name"]: r["id"] for r in rules} == dict(RULE_IDS)
    for alert, found in zip(alerts, run["results"], strict=True):
        assert found["ruleId"] == RULE_IDS[alert.detector]
        assert rules[found["ruleIndex"]]["name"] == alert.detector
    assert run["results"][0]["properties"]["evidence"] == {"overlap": None}
    suite = ET.fromstring(FORMATS["junit"].render(report).encode())
    assert suite.get("tests") == str(len(RULE_IDS)) and suite.get("failures") == "2"
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert failed == {f"{RULE_IDS[last]} {last}", f"{RULE_IDS['volume']} volume"}
    assert json.loads(FORMATS["json"].render(report))["queries"] == 180


def test_the_comparison_formats(
    tmp_path: Path, result: AuditResult, github_schema: dict[str, Any], cli
) -> None:
    from miaudit.defences.compare import Comparison, VariantResult
    from miaudit.defences.render import write
    from miaudit.gate import evaluate, parse_conditions

    conditions = parse_conditions(["auc>0.5"])  # the leaky model fails it
    verdict = evaluate(result, conditions)
    assert not verdict.passed
    variants = (VariantResult("leaky <v>", "an MLP", result, 1.0, None, verdict),)
    comparison = Comparison(
        variants, (0.01,), "auc", frozenset(["leaky <v>"]), None, "no variant meets the policy",
        ("auc>0.5",),
    )  # fmt: skip
    paths = write(comparison, tmp_path, ["sarif", "junit"], source="compare.toml")
    assert [p.name for p in paths] == ["compare.sarif", "compare.junit.xml"]
    document = json.loads(paths[0].read_text())
    jsonschema.validate(document, github_schema)
    found = document["runs"][0]["results"]
    assert found and all(r["message"]["text"].startswith("leaky <v>: ") for r in found)
    assert "MIA001" in {r["ruleId"] for r in found}  # the failed policy check
    suite = ET.parse(paths[1]).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"leaky <v>", "recommendation"}
    # failures exactly when the command exits 1: the variant's own case only says it fails
    assert cases["leaky <v>"].find("failure") is None
    output = cases["leaky <v>"].find("system-out").text
    assert "held-out accuracy" in output and "Fails the policy: " in output
    assert cases["recommendation"].find("failure") is not None
    # the command line's choices come from the same registry: an unknown one fails at once
    done = cli("compare", "--config", str(tmp_path / "none.toml"), "--format", "json,pdf")
    assert done.returncode == 2 and "unknown comparison format 'pdf'" in done.stderr
