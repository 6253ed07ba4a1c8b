"""The threat every miaudit finding evidences, named once for every output that tags it.

MITRE ATLAS AML.T0024.000 is "Infer Training Data Membership"; OWASP Machine Learning Security
Top 10 ML04:2023 is "Membership Inference Attack". The audit report, the scanner, the monitor and
``compare`` all tag their rules and findings with these.
"""

from __future__ import annotations

#: MITRE ATLAS technique: Infer Training Data Membership.
ATLAS = "AML.T0024.000"
#: The technique's page, the ``informationUri`` / ``helpUri`` of miaudit's SARIF rules.
ATLAS_URL = f"https://atlas.mitre.org/techniques/{ATLAS}"
#: OWASP Machine Learning Security Top 10: Membership Inference Attack.
OWASP = "ML04:2023"
#: The tags GitHub code scanning shows for the technique and the OWASP entry.
ATLAS_TAG = f"MITRE-ATLAS/{ATLAS}"
OWASP_TAG = f"OWASP-ML/{OWASP}"

__all__ = ["ATLAS", "ATLAS_TAG", "ATLAS_URL", "OWASP", "OWASP_TAG"]
