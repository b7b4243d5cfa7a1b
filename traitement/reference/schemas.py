"""Schemas of one entry of each data-pack table: a region, a model, a GPU board, a source.

The build (``scripts/build_data_pack.py``) validates every entry with them; a look-up of
:mod:`traitement.reference` returns them. Whole-table schemas are in :mod:`traitement.reference.tables`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..base import Frozen
from ..errors import UnknownNameError


class Range(Frozen):
    """A value with its plausible range (``min == value == max`` for a published, exact figure)."""

    value: float = Field(description="the central value")
    min: float = Field(description="the lowest plausible value")
    max: float = Field(description="the highest plausible value")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.min <= self.value <= self.max:
            raise ValueError(f"need min <= value <= max, got {self.min}, {self.value}, {self.max}")
        return self

    @property
    def low(self) -> float:
        """The lowest plausible value (the config's ``Uncertain`` has the same two names)."""
        return self.min

    @property
    def high(self) -> float:
        """The highest plausible value."""
        return self.max


Kind = Literal["country", "subdivision", "cloud", "world"]


class RegionEntry(Frozen):
    """One place electricity comes from: a country, an ISO 3166-2 subdivision, a cloud region or the world."""

    id: str = Field(description="ISO 3166-1 alpha-3 (FRA), ISO 3166-2 (US-CA), provider:region (aws:us-east-1) or WLD")
    kind: Kind = Field(description="country, subdivision, cloud or world")
    name: str = Field(description="English name, or the cloud region's city")
    country: str | None = Field(description="ISO 3166-1 alpha-3 code of the country it lies in (null: the world, or unknown)")
    alpha_2: str | None = Field(None, description="ISO 3166-1 alpha-2 code (countries)")
    provider: str | None = Field(None, description="cloud provider: aws, gcp or azure (cloud regions)")
    region: str | None = Field(None, description="the provider's own region name (cloud regions)")
    location: str | None = Field(None, description="id of the country or subdivision the cloud region is in")
    datacenter: str | None = Field(None, description="the provider's datacentre preset of config/config.yaml (cloud regions)")
    carbon_intensity_gco2eq_per_kwh: float | None = Field(
        description="grid carbon intensity in gCO2e/kWh, >= 0 (null: no source covers this place)", ge=0, le=2000
    )
    carbon_year: int | None = Field(description="year the intensity describes")
    carbon_source: str | None = Field(description="id of the source in sources.json")
    carbon_note: str = Field(description="how the figure was chosen or derived, and its boundary")
    wue_offsite_l_per_kwh: float = Field(description="water consumed to generate one kWh, in L/kWh, >= 0", ge=0, le=100)
    water_year: int = Field(description="year of the water figure")
    water_source: str = Field(description="id of the source in sources.json")
    water_is_world_average: bool = Field(description="true where no national figure exists and the world average stands in")
    water_note: str = Field(description="where the water figure comes from")
    aliases: tuple[str, ...] = Field(description="other names that resolve to this entry")
    google_cfe: float | None = Field(None, description="Google's carbon-free energy share of the region (gcp)", ge=0, le=1)

    def require_grid(self, option: str = "region") -> float:
        """The grid intensity, or a one-line error where no source in the pack covers this place."""
        if self.carbon_intensity_gco2eq_per_kwh is None:
            raise UnknownNameError(
                f"{option}: {self.name} ({self.id}) has no grid carbon intensity in the data pack (no source covers it); "
                "give an intensity or a neighbouring grid",
                code="no-grid-data",
            )
        return self.carbon_intensity_gco2eq_per_kwh


class ModelEntry(Frozen):
    """One text-generation model: its size (ranges where the provider has not published it)."""

    id: str = Field(description="lowercase canonical name")
    name: str = Field(description="the name as its source writes it")
    provider: str = Field(description="who publishes the model (openai, anthropic, google, mistral, meta, ...)")
    architecture: Literal["dense", "moe"] = Field(description="dense or mixture of experts")
    total_params_b: Range = Field(description="all parameters in billions")
    active_params_b: Range = Field(description="parameters used per token in billions")
    estimate: bool = Field(description="true where the provider has not published the size: the figures are a range")
    precision: str | None = Field(description="precision of the released weights (null: unknown)")
    multimodal: bool = Field(description="the model also reads images or audio")
    aliases: tuple[str, ...] = Field(description="other names that resolve to this model (snapshots, provider ids)")
    source: str = Field(description="id of the source in sources.json")
    source_note: str = Field(description="where the figures come from")
    urls: tuple[str, ...] = Field(description="the source's references for this model")
    year: int = Field(description="year of the source (curated models: release year)")

    @model_validator(mode="after")
    def _active_within_total(self) -> ModelEntry:
        if self.active_params_b.value > self.total_params_b.value * (1 + 1e-9):
            raise ValueError(f"active_params_b ({self.active_params_b.value}) exceeds total_params_b ({self.total_params_b.value})")
        return self


class GpuEntry(Frozen):
    """One GPU board: datasheet figures, each row with its source."""

    id: str = Field(description="lowercase canonical name (a100-sxm4-80gb)")
    name: str = Field(description="product name")
    vendor: Literal["nvidia", "amd"] = Field(description="nvidia or amd")
    form_factor: str = Field(description="SXM, PCIe or OAM")
    year: int = Field(description="year of release (datasheet)")
    power_w: float = Field(description="board power (TDP) in W, > 0", gt=0, le=5000)
    memory_gb: float = Field(description="memory in GB, > 0", gt=0)
    memory_bandwidth_tb_per_s: float = Field(description="memory bandwidth in TB/s, > 0", gt=0)
    bf16_tflop_per_s: float | None = Field(description="dense bf16 tensor compute in TFLOP/s (null: no bf16)", gt=0)
    fp16_tflop_per_s: float = Field(description="dense fp16 tensor compute in TFLOP/s", gt=0)
    fp8_tflop_per_s: float | None = Field(description="dense fp8 tensor compute in TFLOP/s (null: no fp8)", gt=0)
    source: str = Field(description="the datasheet or page the figures come from")
    url: str = Field(description="its address")
    note: str = Field(description="how the figures were read (dense = half the sparsity figures, ...)")
    embodied_kgco2eq: Range | None = Field(description="manufacturing emissions of one board in kgCO2e (null: no source)")
    embodied_basis: Literal["published", "assumption"] | None = Field(description="published figure or the project's assumption")
    embodied_source: str | None = Field(description="where the embodied figure comes from")
    embodied_year: int | None = Field(description="year of the embodied figure")
    aliases: tuple[str, ...] = Field(description="other names that resolve to this board")

    @property
    def tensor16_tflop_per_s(self) -> float:
        """Dense 16-bit tensor compute: bf16, or fp16 on boards without bf16 (T4, V100)."""
        return self.bf16_tflop_per_s if self.bf16_tflop_per_s is not None else self.fp16_tflop_per_s


class SourceEntry(Frozen):
    """One source of the pack: what it is, its licence and year, and what it feeds."""

    id: str = Field(description="short id that entries cite")
    title: str = Field(description="what the source is")
    publisher: str = Field(description="who publishes it")
    licence: str = Field(description="SPDX identifier or licence name")
    year: int = Field(description="year of the data (or of the edition)")
    url: str = Field(description="where it is published")
    files: tuple[str, ...] = Field(description="its files under data/sources/")
    feeds: tuple[str, ...] = Field(description="the tables and fields it feeds, with how many entries")
