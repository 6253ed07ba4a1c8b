"""MIA105: membership inference run through the endpoint on records of known membership —
the strongest attacks the exposed outputs allow (the audit's default selection on a remote
target: no reference models, no query-hungry probing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from miaudit.audit import audit
from miaudit.data import RecordSet
from miaudit.scan.probe import Endpoint, Shape
from miaudit.scan.rules import ScanFinding


def membership_probe(
    members: RecordSet, nonmembers: RecordSet, seed: int = 0
) -> Callable[[Endpoint, Shape], list[ScanFinding]]:
    """The MIA105 check for these records, to pass to :func:`miaudit.scan.scan`."""

    def run(endpoint: Endpoint, shape: Shape) -> list[ScanFinding]:
        from miaudit.targets.http import HttpTarget

        classes = np.unique(np.concatenate([members.labels, nonmembers.labels]))
        output = "label" if shape.kind == "label" else shape.kind
        if output not in ("label", "probabilities", "logits"):
            output = "probabilities"
        if output != "label" and shape.classes != len(classes):
            classes = np.arange(shape.classes)  # the records' labels are class indices then
        target = HttpTarget(
            endpoint.url,
            classes,
            output=output,
            protocol=endpoint.protocol,
            headers=endpoint.headers,
        )
        result = audit(target, members, nonmembers, seed=seed)
        endpoint.queries += len(members) + len(nonmembers)
        strongest = result.strongest()
        if strongest is None:
            return []
        auc = strongest.auc
        low, high = auc.ci if auc.ci else (0.5, 0.5)
        level = "error" if low > 0.6 else "warning" if low > 0.5 else "note"
        evidence: dict[str, Any] = {
            "attack": strongest.name,
            "auc": auc.value,
            "auc_ci": [low, high],
            "members": len(members),
            "nonmembers": len(nonmembers),
            "attacks_run": [a.name for a in result.attacks],
        }
        tpr = strongest.tpr(0.01)
        if tpr is not None and tpr.tpr.value is not None:
            evidence["tpr_at_1pct_fpr"] = tpr.tpr.value
            evidence["tpr_at_1pct_fpr_ci"] = list(tpr.tpr.ci or ())
        verdict = (
            "members are distinguishable through the endpoint"
            if low > 0.5
            else "no membership signal this many records can show"
        )
        message = (
            f"{verdict}: {strongest.name} AUC {auc.value:.3f} [{low:.3f}, {high:.3f}] on "
            f"{len(members)} members and {len(nonmembers)} non-members"
        )
        return [ScanFinding("MIA105", level, message, evidence)]

    return run
