"""``--mlflow``: log an audit to the active MLflow tracking URI (the ``mlflow`` extra).

Metrics (``miaudit/<attack>/auc``, ``.../tpr_at_<fpr>``, ``.../advantage``, ``.../epsilon``,
``miaudit/strongest/auc``, ``miaudit/model/gap`` ...), tags for the risk level, the gate's
verdict and the threat ids, and the report folder as artifacts under ``miaudit-report/``. Logs
into the active run if there is one, else into a new run named ``miaudit``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from miaudit.assess import ATLAS, OWASP, RiskLevel, risk_level
from miaudit.errors import require

if TYPE_CHECKING:
    from miaudit.results import AuditResult


def metrics(result: AuditResult) -> dict[str, float]:
    """The audit's headline figures as MLflow metric names and values (resolved ones only)."""
    out: dict[str, float] = {}
    model = result.model
    for key, estimate in (
        ("train_accuracy", model.train_accuracy),
        ("test_accuracy", model.test_accuracy),
        ("gap", model.generalization_gap),
    ):
        if estimate.value is not None:
            out[f"miaudit/model/{key}"] = float(estimate.value)
    for attack in result.attacks:
        prefix = f"miaudit/{attack.name}"
        for key, value in (
            ("auc", attack.auc.value),
            ("advantage", attack.advantage.value),
            ("epsilon", attack.epsilon.value),
        ):
            if value is not None:
                out[f"{prefix}/{key}"] = float(value)
        for t in attack.tpr_at_fpr:
            if t.tpr.value is not None:
                out[f"{prefix}/tpr_at_{t.fpr:g}"] = float(t.tpr.value)
    strongest = result.strongest()
    if strongest is not None and strongest.auc.value is not None:
        out["miaudit/strongest/auc"] = float(strongest.auc.value)
    return out


def log_to_mlflow(
    result: AuditResult, report_dir: str | Path, risk: RiskLevel | None = None
) -> str:
    """Log ``result`` and the files in ``report_dir``; return the MLflow run id."""
    mlflow: Any = require("mlflow", "mlflow", "Logging to MLflow (--mlflow)")
    active = mlflow.active_run()
    context = contextlib.nullcontext(active) if active else mlflow.start_run(run_name="miaudit")
    with context as run:
        mlflow.log_metrics(metrics(result))
        gate = result.gate
        verdict = (
            "not set"
            if gate is None or not gate.checks
            else ("passed" if gate.passed else "failed")
        )
        strongest = result.strongest()
        mlflow.set_tags(
            {
                "miaudit.version": result.version,
                "miaudit.risk": (risk or risk_level(result)).level,
                "miaudit.gate": verdict,
                "miaudit.strongest_attack": strongest.name if strongest else "none",
                "mitre_atlas": ATLAS,
                "owasp_ml": OWASP,
            }
        )
        mlflow.log_params(
            {
                "miaudit.n_members": result.n_members,
                "miaudit.n_nonmembers": result.n_nonmembers,
                "miaudit.seed": result.settings.seed,
            }
        )
        mlflow.log_artifacts(str(report_dir), artifact_path="miaudit-report")
        return str(run.info.run_id)
