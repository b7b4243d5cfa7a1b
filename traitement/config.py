"""Reading and validating the YAML configuration, once, at the edge.

Core functions never read files: the interfaces call :func:`load_config` and
pass what they need. Paths are relative to this module, not to the working
directory. Every file is validated with ``extra="forbid"``; a bad file raises
:class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError, UnknownNameError, format_validation_error

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_DIR / "config"
CONFIG_DIR_ENV = "GENAI_CARBON_CONFIG_DIR"
"""Environment variable naming another folder holding the same YAML files."""

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


class Uncertain(BaseModel):
    """A value with an optional range: ``{value: V, min: LO, max: HI}`` or a plain number."""

    model_config = _STRICT
    value: float
    min: float | None = None
    max: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, data: Any) -> Any:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"value": data}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Uncertain:
        low = self.value if self.min is None else self.min
        high = self.value if self.max is None else self.max
        if not low <= self.value <= high:
            raise ValueError(f"need min <= value <= max, got min={low}, value={self.value}, max={high}")
        return self

    @property
    def low(self) -> float:
        return self.value if self.min is None else self.min

    @property
    def high(self) -> float:
        return self.value if self.max is None else self.max


Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class RegionConfig(BaseModel):
    model_config = _STRICT
    iso: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    carbon_intensity_gco2eq_per_kwh: Annotated[float, Field(ge=0, le=2000)]
    wue_offsite_l_per_kwh: Annotated[float, Field(ge=0, le=50)]
    source: str


class DatacenterConfig(BaseModel):
    model_config = _STRICT
    pue: Uncertain
    wue_site_l_per_kwh: Uncertain
    source: str

    @model_validator(mode="after")
    def _pue_at_least_one(self) -> DatacenterConfig:
        if self.pue.low < 1:
            raise ValueError(f"pue must be >= 1 (facility energy over IT energy), got {self.pue.low}")
        return self


class SiteDefaults(BaseModel):
    model_config = _STRICT
    region: str
    datacenter: str


class SiteFile(BaseModel):
    """``config/config.yaml``."""

    model_config = _STRICT
    defaults: SiteDefaults
    regions: dict[str, RegionConfig]
    datacenters: dict[str, DatacenterConfig]


class GpuConfig(BaseModel):
    model_config = _STRICT
    name: str
    power_w: Positive
    memory_gb: Positive
    memory_bandwidth_tb_per_s: Positive
    bf16_tflop_per_s: Positive
    embodied_kgco2eq: Uncertain
    source: str


class HardwareConfig(BaseModel):
    model_config = _STRICT
    description: str
    gpu: str
    n_gpu: Annotated[int, Field(ge=1, le=1024)]
    gpu_utilisation: Uncertain
    cpu_power_w: Annotated[float, Field(ge=0)]
    cpu_utilisation: Uncertain
    prefill_tokens_per_s: Uncertain
    decode_tokens_per_s: Uncertain
    batch_size: Uncertain
    server_embodied_kgco2eq: Uncertain
    lifetime_years: Uncertain
    source: str


class ProfileConfig(BaseModel):
    model_config = _STRICT
    description: str
    input_tokens: Uncertain
    output_tokens: Uncertain
    source: str


class ModelDefaults(BaseModel):
    model_config = _STRICT
    hardware: str
    profile: str


class ModelFile(BaseModel):
    """``config/config_model.yaml``."""

    model_config = _STRICT
    defaults: ModelDefaults
    gpus: dict[str, GpuConfig]
    hardware: dict[str, HardwareConfig]
    profiles: dict[str, ProfileConfig]

    @model_validator(mode="after")
    def _gpus_exist(self) -> ModelFile:
        for name, setup in self.hardware.items():
            if setup.gpu not in self.gpus:
                raise ValueError(f"hardware.{name}.gpu: unknown gpu {setup.gpu!r}; known: {', '.join(self.gpus)}")
        return self


def _lookup(table: Mapping[str, Any], name: str, kind: str, aliases: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """Case-insensitive look-up; an unknown name's error lists the known ones and the closest."""
    key = str(name).strip().lower()
    if key in table:
        return key, table[key]
    if aliases and key in aliases:
        return aliases[key], table[aliases[key]]
    import difflib  # only for the error message: not on the start-up path

    known = sorted(table)
    targets = {**{alias: target for alias, target in (aliases or {}).items()}, **{name: name for name in known}}
    close = list(dict.fromkeys(targets[match] for match in difflib.get_close_matches(key, list(targets), n=3, cutoff=0.6)))
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UnknownNameError(f"unknown {kind} {name!r}{hint}; known: {', '.join(known)}", code=f"unknown-{kind}")


@dataclass(frozen=True)
class Config:
    """The validated configuration: look-ups by name, case-insensitive."""

    site: SiteFile
    model: ModelFile
    directory: Path

    def region(self, name: str | None = None) -> tuple[str, RegionConfig]:
        iso = {region.iso.lower(): key for key, region in self.site.regions.items()}
        return _lookup(self.site.regions, name or self.site.defaults.region, "region", iso)

    def datacenter(self, name: str | None = None) -> tuple[str, DatacenterConfig]:
        return _lookup(self.site.datacenters, name or self.site.defaults.datacenter, "datacenter")

    def hardware(self, name: str | None = None) -> tuple[str, HardwareConfig]:
        return _lookup(self.model.hardware, name or self.model.defaults.hardware, "hardware")

    def gpu(self, name: str) -> tuple[str, GpuConfig]:
        return _lookup(self.model.gpus, name, "gpu")

    def profile(self, name: str | None = None) -> tuple[str, ProfileConfig]:
        return _lookup(self.model.profiles, name or self.model.defaults.profile, "profile")


def read_yaml(path: Path) -> Any:
    """Parse one YAML file with the C loader where available; errors name the file and line."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=loader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None


def validate_file(schema: type[BaseModel], data: Any, path: Path) -> Any:
    """Validate parsed YAML against ``schema``; the error names the file and the key."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, prefix=f"{path}: ")) from None


def config_dir() -> Path:
    """The folder holding the YAML files: ``$GENAI_CARBON_CONFIG_DIR`` or the project's ``config/``."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or CONFIG_DIR)


@lru_cache(maxsize=8)
def _load(directory: Path) -> Config:
    site = validate_file(SiteFile, read_yaml(directory / "config.yaml"), directory / "config.yaml")
    model = validate_file(ModelFile, read_yaml(directory / "config_model.yaml"), directory / "config_model.yaml")
    config = Config(site=site, model=model, directory=directory)
    config.region()  # the defaults must name existing entries
    config.datacenter()
    config.hardware()
    config.profile()
    return config


def load_config(directory: Path | str | None = None) -> Config:
    """Read and validate ``config.yaml`` and ``config_model.yaml`` (cached per folder)."""
    return _load(Path(directory) if directory is not None else config_dir())
