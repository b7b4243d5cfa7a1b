"""The rows of a log that name a model: the model-aware estimate of that model, with its deployment unknown.

A row whose ``model`` is a model of the data pack gets the estimate
``--model NAME`` gives one request (issue 14, part A): the model-aware
physics over the ranges of an unknown deployment (GPU boards, GPU count,
precision, batch), :func:`traitement.deployment.model_footprint`. The sums
arrive grouped by (model, hardware named by the row or the caller, region,
datacenter) and by the answer's groups; :func:`model_figures` calls
``model_footprint`` once per such setup, vectorised over its groups (each
group estimated at its mean request: its token sums over its requests). A
hardware preset named by the row (or ``--hardware``) fixes the GPU board; the
GPU count, precision and batch stay ranges.

A usage export that does not count its requests (Anthropic's usage report)
gives no mean request: each row is then taken as answers of
``output_tokens_per_request`` output tokens (``config/usage_exports.yaml``),
and the answer says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from ..base import INTEGER, Frozen
from ..config import Config, config_dir, read_yaml, validate_file
from ..core import MAX_TOKENS
from ..errors import InvalidInputError

USAGE_EXPORTS_FILE = "usage_exports.yaml"


class RequestsNotCounted(Frozen):
    """``requests_not_counted:`` the request shape taken where a usage export does not count requests."""

    output_tokens_per_request: Annotated[int, Field(ge=1, le=MAX_TOKENS), INTEGER] = Field(
        description=f"output tokens of one request, an integer from 1 to {MAX_TOKENS:,}: a row's requests are its output tokens / this"
    )
    source: str = Field(description="where the figure comes from")


class UsageExportsFile(Frozen):
    """``config/usage_exports.yaml``."""

    requests_not_counted: RequestsNotCounted


@lru_cache(maxsize=4)
def _load(path: Path) -> UsageExportsFile:
    return validate_file(UsageExportsFile, read_yaml(path), path)


def load_usage_exports(directory: Path | str | None = None) -> UsageExportsFile:
    """Read and validate ``usage_exports.yaml`` from the config folder (cached per path)."""
    return _load(Path(directory or config_dir()) / USAGE_EXPORTS_FILE)


@dataclass
class ModelRuns:
    """What the model-aware rows add to the answer: each model's size, source, deployment and notes."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    assumed_requests: int = 0
    """Requests assumed where the export does not count them (0: none assumed)."""
    memory_batch: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Model -> (the fewest requests the memory holds at once, the groups held below the central batch): one note per
    model, not one per setup."""


def assumed_requests(input_tokens: int, output_tokens: int, per_request: int) -> int:
    """Requests of a row whose export does not count them: its output tokens in answers of ``per_request`` tokens,
    at least 1, and enough that no request exceeds the largest prompt; 0 for a row without tokens."""
    if input_tokens == 0 and output_tokens == 0:
        return 0
    return max(1, math.ceil(output_tokens / per_request), math.ceil(input_tokens / MAX_TOKENS))


def model_figures(
    config: Config,
    setup: tuple[str | None, str, str, str],
    site_sides: Any,
    groups: list[tuple[tuple, list[int]]],
    requests: list[int],
    runs: ModelRuns,
    labels: str,
) -> dict[str, list[float]]:
    """The figures of one (hardware or None, region, datacenter, model) setup over its groups: each quantity's
    central value, ``_min`` and ``_max``, and ``reasoning_energy_kwh`` (lists in the groups' order).

    ``groups``: ``(labels, [requests, input, cached, output, reasoning, ...])``; ``requests``: the requests each
    group is estimated with (counted, or assumed). ``labels`` names the grouping keys for messages.
    """
    import numpy as np

    from ..deployment import MEMORY_NOTE, ModelSizes, deployment_for, model_footprint
    from ..energy_model import load_energy_model

    hardware, _, _, model = setup
    name, entry = config.llm(model)
    energy_model = load_energy_model(config.directory)
    sizes = ModelSizes.of(entry)
    board = config.gpu(config.hardware(hardware)[1].gpu, "hardware")[0] if hardware is not None else None
    deployment = deployment_for(config, energy_model, sizes, board=board)
    all_tokens = np.array([sums[1:5] for _, sums in groups], dtype=np.float64)  # input, cached, output, reasoning
    all_count = np.array(requests, dtype=np.float64)
    used = np.flatnonzero(all_count > 0)  # a usage export's row of 0 requests (and so 0 tokens, checked) adds nothing
    tokens, count = all_tokens[used], all_count[used]
    groups = [groups[index] for index in used]
    if not used.size:
        raise ValueError("model_figures: no group with requests (the caller gives such groups 0)")
    short = np.flatnonzero((tokens[:, 0] < count) | (tokens[:, 2] < count))
    if short.size:
        index = int(short[0])
        where = ", ".join(f"{key} {value}" for key, value in zip(labels.split(","), groups[index][0], strict=False) if key) or "the log"
        raise InvalidInputError(
            f"model {name} ({where}): {int(count[index]):,} requests with {int(tokens[index, 0]):,} input and {int(tokens[index, 2]):,} output tokens; "
            "the model-aware method needs at least one input and one output token per request; allowed: such rows with method 'hardware' (--method hardware)",
            code="invalid-token-count",
        )
    result = model_footprint(
        sizes,
        site_sides,
        tokens[:, 0],
        tokens[:, 2],
        count,
        tokens[:, 1],
        tokens[:, 3],
        config=config,
        energy_model=energy_model,
        deployment=deployment,
    )
    columns = dict(result.columns)
    # The host's energy is a share of the GPUs': its ends are the IT energy's ends less the GPUs'.
    columns["energy_cpu_kwh_min"] = columns["energy_it_kwh_min"] - columns["energy_gpu_kwh_min"]
    columns["energy_cpu_kwh_max"] = columns["energy_it_kwh_max"] - columns["energy_gpu_kwh_max"]
    out = {}
    for name_, values in columns.items():
        if name_.startswith(("energy", "carbon", "water", "reasoning_energy")):
            full = np.zeros(len(all_count))
            full[used] = np.broadcast_to(values, used.shape)
            out[name_] = full.tolist()
    described = runs.models.setdefault(
        name,
        {
            "provider": entry.provider,
            "active_params_b": {"value": entry.active_params_b.value, "min": entry.active_params_b.min, "max": entry.active_params_b.max},
            "total_params_b": {"value": entry.total_params_b.value, "min": entry.total_params_b.min, "max": entry.total_params_b.max},
            "size_published": not entry.estimate,
            "source": f"{entry.source} ({entry.year})",
            "deployments": [],
            "notes": [],
        },
    )
    about = deployment.describe()
    if about not in described["deployments"]:
        described["deployments"].append(about)
    notes = [note for note in result.notes if not note.startswith(MEMORY_NOTE)]
    batch = np.asarray(result.central["batch_size"], dtype=np.float64)
    short_batch = batch < deployment.batch_size.value
    if bool(np.any(short_batch)):
        least, groups_short = runs.memory_batch.get(name, (math.inf, 0))
        least, groups_short = min(least, float(np.min(batch[short_batch]))), groups_short + int(np.sum(short_batch))
        runs.memory_batch[name] = (least, groups_short)
        described["notes"] = [note for note in described["notes"] if not note.startswith(MEMORY_NOTE)]
        notes.append(
            f"{MEMORY_NOTE} as few as {least:,.3g} such requests at once (in {groups_short:,} of the groups estimated), fewer than "
            f"the central batch of {deployment.batch_size.value:g}: the central estimate serves that many there"
        )
    described["notes"] += [note for note in notes if note not in described["notes"]]
    return out

