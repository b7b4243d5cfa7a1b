"""Method "measured": the energy of a local run, measured by CodeCarbon; its carbon at the project's grid figure.

Always CodeCarbon's offline tracker with an explicit country; the run is in
:mod:`traitement.measurement` (``traitement.measure``), the command in the CLI's ``measure``.
"""

from __future__ import annotations

from .base import Method

NAME = "measured"

COVERS = {
    "energy_kwh": "this machine's electricity during the run (CPU + GPU + RAM, whole machine, not only the command), as CodeCarbon measured or modelled it; "
    "no PUE, no network, no manufacturing",
    "carbon_gco2eq": "scope 2, location-based: energy x the region's grid intensity from the project's data (the figure every command uses); "
    "electricity only",
}

METHOD = Method(
    name=NAME,
    description="a local run measured by CodeCarbon's offline tracker (RAPL, NVML, or its load model where no counter exists)",
    covers=COVERS,
    interfaces=frozenset({"measure"}),
)
