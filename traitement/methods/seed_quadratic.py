"""Method "seed-quadratic" (LEGACY): the seed README's ``T = (Input^2 + Output) / throughput``.

Dimensionally wrong (tokens^2 / (tokens/s) is not a time) and never the
default: kept, labelled, only so the seed's numbers can be reproduced (300 in,
50 out at 1 token/s gives 90,050 s). One throughput for both phases and no
batch sharing; the rest is the hardware method's formulas.
"""

from __future__ import annotations

from typing import Any

from .. import physics
from .base import Method
from .hardware import COVERS

NAME = "seed-quadratic"

WARNING = (
    "seed-quadratic is the seed README's legacy formula (Input^2 + Output) / throughput: "
    "it is dimensionally wrong and overstates time and energy by orders of magnitude; "
    "use it only to reproduce the seed's numbers"
)


def times(input_tokens: Any, output_tokens: Any, modele: Any) -> tuple[Any, Any, Any, Any]:
    """The seed's formula at the decode speed, no batch sharing (batch 1)."""
    speed = modele.decode_tokens_per_s
    prefill_s = input_tokens * input_tokens / speed
    decode_s = physics.decode_duration_s(output_tokens, speed)
    return prefill_s, decode_s, physics.seed_quadratic_duration_s(input_tokens, output_tokens, speed), 1.0


METHOD = Method(
    name=NAME,
    description="the seed README's legacy formula (Input^2 + Output) / throughput, to reproduce its numbers only",
    covers=COVERS,
    interfaces=frozenset({"estimate", "raw", "batch", "validate"}),
    times=times,
    warnings=(WARNING,),
)
