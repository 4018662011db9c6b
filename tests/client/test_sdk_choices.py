"""The SDK keeps its own copy of the server's choices (it imports nothing server-side): the copies must agree."""

from __future__ import annotations

import typing

from assay.client._arguments import EvaluationType, Provider
from assay.domain.evaluator_config import EVALUATION_TYPES
from assay.domain.providers import PROVIDERS


def test_sdk_providers_are_the_servers() -> None:
    assert typing.get_args(Provider) == PROVIDERS


def test_sdk_evaluation_types_are_the_servers() -> None:
    assert typing.get_args(EvaluationType) == EVALUATION_TYPES
