"""Options: declared once, validated once, for classifiers and language models alike."""

from __future__ import annotations

import numpy as np
import pytest

from miaudit import AuditOptions, InputError, LanguageModelOptions, ReferenceOptions
from miaudit.audit.options import KEYWORDS
from miaudit.cli.config import AuditConfig


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"delta": 5.0}, "delta must be in"),
        ({"delta": 0}, "delta must be in"),
        ({"confidence": 0.2}, "confidence must be in"),
        ({"fprs": [0.0]}, "fprs must be in"),
        ({"fprs": []}, "fprs must be in"),
        ({"attacks": ["loss", "loss"]}, "repeated"),
        ({"attacks": []}, "empty"),
        ({"attacks": "loss"}, "not one string"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"delta": "0.1"}, "delta must be a number"),
        ({"fprs": [0.01, "x"]}, "fprs must be a number"),
        ({"dp_epsilon": -1.0}, "dp_epsilon"),
        ({"top_records": -1}, "top_records"),
        ({"attack_params": {"rmia-offline": 0.5}}, "attack_params must map"),
    ],
)
def test_audit_options_refuse_bad_values(settings: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        AuditOptions.from_keywords(**settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"models": -1}, "reference_models must be from 0 to 4,096"),
        ({"models": 10**17}, "reference_models must be from 0 to 4,096"),
        ({"executor": "spark"}, "executor 'spark' is not available"),
        ({"ray_address": "127.0.0.1:1"}, "cluster address is for executor 'ray'"),
        ({"models": 2, "outputs": "x.npz"}, "not both"),
        ({"train_size": 0}, "reference_train_size"),
        ({"models": 2.5}, "reference_models must be a whole number"),
        ({"recipe": object()}, "recipe must be a miaudit Recipe"),
    ],
)
def test_reference_options_refuse_bad_values(settings: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ReferenceOptions(**settings)


def test_language_model_options_hold_the_extra_models() -> None:
    assert not LanguageModelOptions().given and LanguageModelOptions(reference_lm=object()).given


def test_keywords_build_nested_options_and_unknown_ones_are_named() -> None:
    options = AuditOptions.from_keywords(
        reference_models=4, executor="inline", seed=3, attacks=["loss"]
    )
    assert options.reference == ReferenceOptions(models=4, executor="inline")
    assert options.attacks == ("loss",) and options.seed == 3
    assert AuditOptions.from_keywords(executor=None).reference.executor == "local"
    with pytest.raises(TypeError, match="refrence_models"):
        AuditOptions.from_keywords(refrence_models=4)
    # numpy numbers are numbers: stored as plain int / float
    numpy_set = AuditOptions.from_keywords(seed=np.int64(3), delta=np.float32(0.5))
    assert type(numpy_set.seed) is int and numpy_set.seed == 3 and type(numpy_set.delta) is float
    assert ReferenceOptions(models=np.int64(4)).models == 4
    # frozen, and equal settings compare equal
    assert AuditOptions(fprs=[0.01]) == AuditOptions(fprs=(0.01,))
    with pytest.raises(AttributeError):
        options.seed = 1  # type: ignore[misc]


def test_the_config_file_takes_exactly_the_audit_keywords() -> None:
    # one name per setting: what a file cannot hold (objects) is the only difference
    objects = {"recipe", "reference_lm", "masked_lm"}
    assert set(AuditConfig.model_fields) == set(KEYWORDS) - objects
