"""The detector registry: today's detectors keep their names, order, SARIF rule ids, default
thresholds, floors and calibration priority; a detector that would clash is refused."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from miaudit.errors import InputError
from miaudit.monitor.calibrate import DEFAULT_THRESHOLDS, floor, priority
from miaudit.monitor.detectors import DETECTORS, RULE_IDS, Detector, Query, register, registered


def test_todays_detectors_keep_their_numbers() -> None:
    assert dict(RULE_IDS) == {
        "training-overlap": "MIA201",
        "calibration": "MIA202",
        "near-duplicates": "MIA203",
        "boundary-walk": "MIA204",
        "harvesting": "MIA205",
        "volume": "MIA206",
        "campaign": "MIA207",
        "client": "MIA208",
        "line-search": "MIA209",
    }
    assert list(DETECTORS) == list(RULE_IDS)
    assert DETECTORS["volume"] == "more queries than benign keys send in the same period"
    assert dict(DEFAULT_THRESHOLDS) == {
        "training-overlap": 12.0,
        "calibration": 21.0,
        "near-duplicates": 6.0,
        "boundary-walk": 3.0,
        "harvesting": 2500.0,
        "volume": 2500.0,
        "campaign": 9.0,
        "client": 12.0,
        "line-search": 3.0,
    }
    assert priority() == (
        "training-overlap", "near-duplicates", "client", "boundary-walk", "line-search",
        "calibration", "campaign", "harvesting", "volume",
    )  # fmt: skip
    evidence = math.log(1 / 0.01)  # Wald's bound for the CUSUM detectors
    floors = {name: floor(name, 0.01) for name in DETECTORS}
    assert floors == {
        "training-overlap": evidence,
        "calibration": evidence,
        "near-duplicates": evidence,
        "boundary-walk": 3.0,
        "harvesting": 1.0,
        "volume": 1.0,
        "campaign": evidence,
        "client": evidence,
        "line-search": 1.0,
    }


def _detector(**declared: object) -> type[Detector]:
    @dataclass
    class State:
        count: int = 0

    def update(self: Detector, state: State, query: Query, score: float) -> float:
        return score

    attributes = {
        "name": "probe",
        "rule_id": "MIA298",
        "description": "a test detector",
        "default_threshold": 1.0,
        "priority": 9,
        "State": State,
        "update": update,
        **declared,
    }
    return type("Probe", (Detector,), attributes)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"name": "volume"}, "'volume' is already registered"),
        ({"rule_id": "MIA204"}, "rule id MIA204 is already boundary-walk's"),
        ({"rule_id": "204"}, "rule_id must look like 'MIA208'"),
        ({"State": dict}, "must declare State, a dataclass"),
    ],
)
def test_a_clashing_detector_is_refused(declared: dict, message: str) -> None:
    before = registered()
    with pytest.raises(InputError, match=message):
        register(_detector(**declared))
    assert registered() == before


def test_not_a_detector_is_refused() -> None:
    with pytest.raises(InputError, match="not a Detector or GroupDetector"):
        register(dict)  # type: ignore[arg-type]
