"""Method "seed-quadratic" (LEGACY): the formula ``time = (input_tokens^2 + output_tokens) / throughput``.

Dimensionally wrong (tokens^2 / (tokens/s) is not a time) and never the
default: kept, labelled, only so figures computed with it can be reproduced
(300 in, 50 out at 1 token/s gives 90,050 s). One throughput for both phases and no
batch sharing; the rest is the hardware method's formulas.
"""

from __future__ import annotations

from typing import Any

from .. import physics
from .base import Method
from .hardware import COVERS

NAME = "seed-quadratic"

WARNING = (
    "seed-quadratic is a legacy formula, time = (input_tokens^2 + output_tokens) / throughput: "
    "it is dimensionally wrong and overstates time and energy by orders of magnitude; "
    "use it only to reproduce figures computed with it"
)


def times(input_tokens: Any, output_tokens: Any, modele: Any) -> tuple[Any, Any, Any, Any]:
    """The legacy formula at the decode speed, no batch sharing (batch 1)."""
    speed = modele.decode_tokens_per_s
    prefill_s = input_tokens * input_tokens / speed
    decode_s = physics.decode_duration_s(output_tokens, speed)
    return prefill_s, decode_s, physics.seed_quadratic_duration_s(input_tokens, output_tokens, speed), 1.0


METHOD = Method(
    name=NAME,
    description="legacy formula time = (input_tokens^2 + output_tokens) / throughput, dimensionally wrong: only to reproduce figures computed with it",
    covers=COVERS,
    interfaces=frozenset({"estimate", "raw", "batch", "validate"}),
    times=times,
    warnings=(WARNING,),
)
