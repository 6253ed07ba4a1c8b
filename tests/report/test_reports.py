"""Report formats: schema, self-contained HTML with escaped records, Markdown, CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from miaudit import RecordSet, SklearnTarget, audit
from miaudit.errors import InputError
from miaudit.results.audit import AuditResult

HOSTILE_ID = '<script>alert("x")</script>&'


@pytest.fixture(scope="module")
def result(overfit_model: tuple) -> AuditResult:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    ids = [f"m{i}" for i in range(len(y_in))]
    ids[int(np.argmax(model.predict_proba(x_in)[np.arange(len(y_in)), y_in]))] = HOSTILE_ID
    members = RecordSet.from_arrays(x_in, y_in, ids, name="members")
    return audit(
        SklearnTarget(model), members, (x_out, y_out), attacks=["loss", "gap"], dp_epsilon=0.5
    )


def test_json_schema_fields(result: AuditResult) -> None:
    report = json.loads(result.render("json"))
    assert set(report) >= {
        "schema",
        "model",
        "attacks",
        "records",
        "settings",
        "risk",
        "audit_questions",
        "skipped_attacks",
    }
    assert set(report["model"]) >= {"train_accuracy", "test_accuracy", "generalization_gap"}
    for attack in report["attacks"]:
        assert set(attack) >= {
            "name",
            "auc",
            "auc_ci",
            "tpr_at_fpr",
            "advantage",
            "epsilon_lower_bound",
        }
        for entry in attack["tpr_at_fpr"].values():
            assert ("ci" in entry) != ("reason" in entry)


def test_declared_dp_contradicted_by_measurement(result: AuditResult) -> None:
    questions = {q["question"]: q for q in result.to_dict()["audit_questions"]}
    dp = questions["Is differential privacy applied?"]
    assert dp["answer"] == "inconsistent" and "0.5" in dp["detail"]


def test_html_is_self_contained_and_escapes_records(result: AuditResult) -> None:
    page = result.render("html")
    assert HOSTILE_ID not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched
    assert page.count("data:image/svg+xml;base64,") == 2  # ROC and histograms
    for text in (
        "The four audit questions",
        "What to do next",
        "most exposed",
        "By class",
        "not resolvable",
        "inconsistent",
    ):
        assert text in page


def test_markdown_summary(result: AuditResult) -> None:
    text = result.render("md")
    assert text.startswith("## miaudit membership-inference audit")
    assert "| loss |" in text and "| gap |" in text and "not resolvable" in text


def test_csv_has_every_record(result: AuditResult) -> None:
    rows = list(csv.DictReader(io.StringIO(result.render("csv"))))
    assert len(rows) == result.n_members + result.n_nonmembers
    assert set(rows[0]) == {"id", "label", "member", "score_loss", "score_gap"}


def test_write_and_unknown_format(result: AuditResult, tmp_path: Path) -> None:
    paths = result.write(tmp_path / "out", ["json", "md"])
    assert [p.name for p in paths] == ["report.json", "report.md"]
    assert not list((tmp_path / "out").glob("*.tmp"))
    with pytest.raises(InputError, match="unknown report format"):
        result.render("pdf")
