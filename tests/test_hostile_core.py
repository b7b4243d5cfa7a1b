"""Hostile arguments to the core's vectorised estimate, ``traitement.deployment.model_footprint`` (and ``ModelSizes.exact``).

Found by the hardening sweep: columns of different lengths, no rows, a table
(2-D), text or booleans raised numpy's own errors (or, for booleans, counted 1
token); a fractional count passed; ``ModelSizes.exact`` took NaN, a negative or a
boolean size. Each is now a one-line ``InvalidInputError`` naming the argument.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

import traitement
from traitement.deployment import ModelSizes, model_footprint
from traitement.energy_model import load_energy_model
from traitement.errors import InvalidInputError
from traitement.presets import site_and_record

CONFIG = traitement.load_config()
ENERGY_MODEL = load_energy_model(CONFIG.directory)
SITE = site_and_record(CONFIG, "france", None)[0]
MODEL = CONFIG.llm("llama-3.1-8b")[1]


def footprint(input_tokens, output_tokens, **columns):
    return model_footprint(MODEL, SITE, input_tokens, output_tokens, config=CONFIG, energy_model=ENERGY_MODEL, **columns)


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "columns", "message"),
    [
        ([1000, 2000], [100, 200, 300], {}, "columns: not of one length (input_tokens 2, output_tokens 3); allowed: columns of one length"),
        ([], [], {}, "input_tokens: no rows; allowed: at least one row"),
        ([[1000, 2000]], [[100, 200]], {}, "input_tokens: must be one column (got shape (1, 2))"),
        (["1000"], [100], {}, "input_tokens: must be numbers (got text)"),
        ([True], [100], {}, "input_tokens: must be numbers (got booleans)"),
        (np.array([None]), [100], {}, "input_tokens: must be numbers (got other values)"),
        ([1000], [100], {"count": [1.5]}, "count[0]: out of range (got 1.5); allowed: an integer number of requests"),
    ],
)
def test_a_bad_column_is_one_line_naming_it(input_tokens, output_tokens, columns, message) -> None:
    with pytest.raises(InvalidInputError) as raised:
        footprint(input_tokens, output_tokens, **columns)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_columns_of_any_numeric_kind_give_the_same_figures() -> None:
    reference = footprint(np.array([1000.0, 2000.0]), np.array([100.0, 200.0])).columns["energy_kwh"]
    for input_tokens in ([1000, 2000], np.array([1000, 2000], dtype=np.int32), np.array([Decimal(1000), 2000], dtype=object)):
        assert footprint(input_tokens, [100, 200]).columns["energy_kwh"] == pytest.approx(reference, rel=1e-12)
    single = footprint(1000, 100).columns["energy_kwh"]
    assert single.shape == (1,) and single[0] == pytest.approx(reference[0], rel=1e-12)


@pytest.mark.parametrize(("active", "total"), [(float("nan"), None), (-1.0, None), (0.0, None), (True, None), (8.0, float("inf")), (2e5, None)])
def test_model_sizes_outside_their_range_are_refused(active, total) -> None:
    with pytest.raises(InvalidInputError, match=r"^(active|total)_params_b: must be from 0.1 to 100,000 \(got "):
        ModelSizes.exact(active, total)


def test_model_sizes_in_range_are_kept() -> None:
    sizes = ModelSizes.exact(8, 47)
    assert sizes.sizes("central") == (8, 47)
