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
from typing import Any

from .errors import CalculatorError, ConfigError, InvalidInputError, UnknownNameError
from .fields import Record, custom, nested, record, scalar, table

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_DIR / "config"
CONFIG_DIR_ENV = "GENAI_CARBON_CONFIG_DIR"
"""Environment variable naming another folder holding the same YAML files."""
USER_CONFIG_ENV = "GENAI_CARBON_USER_CONFIG"
"""Environment variable naming the user's hardware file (profiles saved by ``measure --save-profile``)."""
USER_CONFIG_DEFAULT = Path("~/.config/genai-carbon/hardware.yaml")
MODELS_FILE = "models.yaml"
PRECISIONS = ("bf16", "fp16", "fp8", "mxfp4", "int8", "int4")


@record
class Uncertain(Record):
    """A value with an optional range: ``{value: V, min: LO, max: HI}`` or a plain number."""

    value: float = scalar(float, "the central value")
    min: float | None = scalar(float, "the lowest plausible value (default: the value)", None)
    max: float | None = scalar(float, "the highest plausible value (default: the value)", None)

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"value": data}
        return data

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"need min <= value <= max, got min={self.low}, value={self.value}, max={self.high}")

    @property
    def low(self) -> float:
        return self.value if self.min is None else self.min

    @property
    def high(self) -> float:
        return self.value if self.max is None else self.max

    def within(self, ge: float | None = None, le: float | None = None) -> bool:
        return (ge is None or self.low >= ge) and (le is None or self.high <= le)


def _uncertain(description: str) -> Any:
    return nested(Uncertain, description)


def _source() -> Any:
    return scalar(str, "where the values come from")


@record
class RegionConfig(Record):
    iso: str = scalar(str, "ISO 3166-1 alpha-3 code, three capital letters", max_length=3)
    carbon_intensity_gco2eq_per_kwh: float = scalar(float, "grid carbon intensity in gCO2e/kWh, from 0 to 2000", ge=0, le=2000)
    wue_offsite_l_per_kwh: float = scalar(float, "water of electricity generation in L/kWh, from 0 to 50", ge=0, le=50)
    source: str = _source()


@record
class DatacenterConfig(Record):
    pue: Uncertain = _uncertain("power usage effectiveness, from 1 to 3")
    wue_site_l_per_kwh: Uncertain = _uncertain("on-site water in L per kWh of IT energy, from 0 to 20")
    source: str = _source()

    def __post_init__(self) -> None:
        if not self.pue.within(1, 3):
            raise ValueError(f"pue: must be from 1 to 3 (facility energy over IT energy), got {self.pue.low} to {self.pue.high}")
        if not self.wue_site_l_per_kwh.within(0, 20):
            raise ValueError("wue_site_l_per_kwh: must be from 0 to 20")


@record
class SiteDefaults(Record):
    region: str = scalar(str, "default region name")
    datacenter: str = scalar(str, "default datacentre preset name")


@record
class SiteFile(Record):
    """``config/config.yaml``."""

    defaults: SiteDefaults = nested(SiteDefaults, "default names")
    regions: dict[str, RegionConfig] = table(RegionConfig, "regions by name")
    datacenters: dict[str, DatacenterConfig] = table(DatacenterConfig, "datacentre presets by name")


@record
class GpuConfig(Record):
    name: str = scalar(str, "product name")
    power_w: float = scalar(float, "board power (TDP) in W, > 0", gt=0, le=5000)
    embodied_kgco2eq: Uncertain = _uncertain("manufacturing emissions of one board in kgCO2e")
    source: str = _source()
    # Unknown (null) only for a measured machine saved by ``measure --save-profile``.
    memory_gb: float | None = scalar(float, "memory in GB, > 0 (null: unknown)", None, gt=0)
    memory_bandwidth_tb_per_s: float | None = scalar(float, "memory bandwidth in TB/s, > 0 (null: unknown)", None, gt=0)
    bf16_tflop_per_s: float | None = scalar(float, "dense bf16 compute in TFLOP/s, > 0 (null: unknown)", None, gt=0)


@record
class HardwareConfig(Record):
    description: str = scalar(str, "what the setup is")
    gpu: str = scalar(str, "an entry of gpus")
    n_gpu: int = scalar(int, "number of GPUs, an integer from 1 to 1024", ge=1, le=1024)
    gpu_utilisation: Uncertain = _uncertain("mean GPU draw as a fraction of board power, from 0 to 1")
    cpu_power_w: float = scalar(float, "host CPU power in W, >= 0", ge=0, le=5000)
    cpu_utilisation: Uncertain = _uncertain("mean CPU draw as a fraction of its power, from 0 to 1")
    prefill_tokens_per_s: Uncertain = _uncertain("prompt reading speed of one request in tokens/s, > 0")
    decode_tokens_per_s: Uncertain = _uncertain("generation speed of one request in tokens/s, > 0")
    batch_size: Uncertain = _uncertain("requests served at once, >= 1")
    server_embodied_kgco2eq: Uncertain = _uncertain("manufacturing emissions of the server without GPUs in kgCO2e")
    lifetime_years: Uncertain = _uncertain("hardware lifetime in years")
    source: str = _source()


@record
class ProfileConfig(Record):
    description: str = scalar(str, "what the profile is")
    input_tokens: Uncertain = _uncertain("prompt length in tokens")
    output_tokens: Uncertain = _uncertain("answer length in tokens")
    source: str = _source()


@record
class AnalyticsConfig(Record):
    """``analytics:``: how daily counts of GenAI features become tokens (DESIGN.md section 7)."""

    topic_chars: Uncertain = _uncertain("characters of one documentation topic, > 0")
    prompt_chars: Uncertain = _uncertain("characters of the user's prompt, > 0")
    chatbot_topics: Uncertain = _uncertain("topics a chatbot conversation reads, > 0")
    completion_topics: Uncertain = _uncertain("topics a completion reads, > 0")
    output_chars: Uncertain = _uncertain("characters of a chatbot or completion answer, > 0")
    chars_per_token: Uncertain = _uncertain("characters per token of the input (English), > 0")
    translation_output_chars_per_token: Uncertain = _uncertain("characters per token of a translation's output (French, German, Spanish), > 0")
    portals_total: int = scalar(int, "portals counted by the session and content series, >= 1", ge=1)
    portals_genai: int = scalar(int, "portals with the GenAI features, >= 1 and <= portals_total", ge=1)
    source: str = _source()

    def __post_init__(self) -> None:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Uncertain) and value.low <= 0:
                raise ValueError(f"{name} must be > 0, got {value.low}")
        if self.portals_genai > self.portals_total:
            raise ValueError(f"portals_genai ({self.portals_genai}) cannot exceed portals_total ({self.portals_total})")


@record
class ModelDefaults(Record):
    hardware: str = scalar(str, "default hardware preset name")
    profile: str = scalar(str, "default usage profile name")


@record
class ModelFile(Record):
    """``config/config_model.yaml``."""

    defaults: ModelDefaults = nested(ModelDefaults, "default names")
    gpus: dict[str, GpuConfig] = table(GpuConfig, "GPU boards by name")
    hardware: dict[str, HardwareConfig] = table(HardwareConfig, "serving setups by name")
    profiles: dict[str, ProfileConfig] = table(ProfileConfig, "usage profiles by name")
    analytics: AnalyticsConfig | None = nested(AnalyticsConfig, "assumptions turning analytics counts into tokens", None)

    def __post_init__(self) -> None:
        for name, setup in self.hardware.items():
            if setup.gpu not in self.gpus:
                raise ValueError(f"hardware.{name}.gpu: unknown gpu {setup.gpu!r}; known: {', '.join(self.gpus)}")


@record
class UserHardwareFile(Record):
    """The user's hardware file (``$GENAI_CARBON_USER_CONFIG``): measured machines, merged into ``config_model.yaml``."""

    gpus: dict[str, GpuConfig] = table(GpuConfig, "GPU boards by name", required=False)
    hardware: dict[str, HardwareConfig] = table(HardwareConfig, "serving setups by name", required=False)


def _aliases(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInputError(f"{where}: must be a list of names (got {value!r})")
    return tuple(value)


@record
class LlmConfig(Record):
    """One model of ``config/models.yaml``: its parameter counts in billions."""

    provider: str = scalar(str, "who publishes the model")
    total_params_b: Uncertain = _uncertain("all parameters in billions")
    active_params_b: Uncertain = _uncertain("parameters used per token in billions (mixture of experts: the active ones)")
    source: str = _source()
    precision: str | None = scalar(str, f"weight precision, one of {', '.join(PRECISIONS)} (null: unknown)", None, choices=PRECISIONS)
    aliases: tuple[str, ...] = custom(_aliases, "other names of the model", tuple)

    def __post_init__(self) -> None:
        if self.active_params_b.low <= 0:
            raise ValueError(f"active_params_b must be > 0, got {self.active_params_b.low}")
        if self.active_params_b.value > self.total_params_b.value:
            raise ValueError(f"active_params_b ({self.active_params_b.value}) exceeds total_params_b ({self.total_params_b.value})")


@record
class CalibrationConfig(Record):
    """The published figure the implied mix is calibrated on."""

    model: str = scalar(str, "the catalogue's name of the reference model")
    active_params_b: float = scalar(float, "its active parameters in billions, > 0", gt=0)
    output_tokens: int = scalar(int, "tokens of the reference answer, >= 1", ge=1)
    carbon_gco2eq: float = scalar(float, "the published life-cycle carbon of that answer in gCO2e, > 0", gt=0)
    source: str = _source()


@record
class ParameterMethodConfig(Record):
    alpha_wh_per_token_per_b_params: float = scalar(float, "Wh per output token per billion active parameters, > 0", gt=0)
    beta_wh_per_token: float = scalar(float, "Wh per output token, >= 0", ge=0)
    source: str = _source()
    calibration: CalibrationConfig = nested(CalibrationConfig, "the calibration point of the implied mix")


@record
class CatalogueFile(Record):
    """``config/models.yaml``."""

    parameter_method: ParameterMethodConfig = nested(ParameterMethodConfig, "constants of the parameter method")
    models: dict[str, LlmConfig] = table(LlmConfig, "models by lowercase name")

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for name, entry in self.models.items():
            for alias in entry.aliases:
                if alias != alias.lower() or alias in self.models or alias in seen:
                    raise ValueError(f"models.{name}.aliases: {alias!r} must be lowercase and name one model only")
                seen[alias] = name
        calibration = self.parameter_method.calibration
        if calibration.model not in self.models:
            raise ValueError(f"parameter_method.calibration.model: unknown model {calibration.model!r}")
        listed = self.models[calibration.model].active_params_b.value
        if listed != calibration.active_params_b:
            raise ValueError(f"parameter_method.calibration.active_params_b ({calibration.active_params_b}) differs from models.{calibration.model} ({listed})")

    @property
    def aliases(self) -> dict[str, str]:
        return {alias: name for name, entry in self.models.items() for alias in entry.aliases}


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
        iso = self.__dict__.get("_iso")
        if iso is None:  # derived once: the config is immutable
            iso = {region.iso.lower(): key for key, region in self.site.regions.items()}
            object.__setattr__(self, "_iso", iso)
        return _lookup(self.site.regions, name or self.site.defaults.region, "region", iso)

    def datacenter(self, name: str | None = None) -> tuple[str, DatacenterConfig]:
        return _lookup(self.site.datacenters, name or self.site.defaults.datacenter, "datacenter")

    def hardware(self, name: str | None = None) -> tuple[str, HardwareConfig]:
        return _lookup(self.model.hardware, name or self.model.defaults.hardware, "hardware")

    def gpu(self, name: str) -> tuple[str, GpuConfig]:
        return _lookup(self.model.gpus, name, "gpu")

    def profile(self, name: str | None = None) -> tuple[str, ProfileConfig]:
        return _lookup(self.model.profiles, name or self.model.defaults.profile, "profile")

    def llm(self, name: str) -> tuple[str, LlmConfig]:
        """A model of the catalogue (``models.yaml``) by name or alias, case-insensitive."""
        catalogue = self.models_file()
        return _lookup(catalogue.models, name, "model", catalogue.aliases)

    def models_file(self) -> CatalogueFile:
        """``models.yaml`` of this folder, read and validated on first use (the one-off estimate does not need it)."""
        return _load_catalogue(self.directory / MODELS_FILE)


def parse_yaml(text: Any, where: str | Path, error: type[CalculatorError] = ConfigError, code: str | None = None) -> Any:
    """Parse YAML text (or an open file) with the C loader where available; a syntax error raises ``error``
    naming ``where`` and the line. Shared by the config, the analytics file and the validation cases."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as problem_error:
        mark = getattr(problem_error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(problem_error, "problem", None) or str(problem_error).splitlines()[0]
        raise error(f"{where}: invalid YAML{line}: {problem}", code=code) from None


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; errors name the file and line."""
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_yaml(handle, path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def validate_file(schema: Any, data: Any, path: Path) -> Any:
    """Validate parsed YAML against ``schema`` (a :class:`Record` or a pydantic model); errors name the file and the key."""
    if isinstance(schema, type) and issubclass(schema, Record):
        try:
            return schema.from_dict(data)
        except InvalidInputError as error:
            raise ConfigError(f"{path}: {error}") from None
    from .base import parse

    return parse(schema, data, prefix=f"{path}: ", whole="file", error=ConfigError)


def config_dir() -> Path:
    """The folder holding the YAML files: ``$GENAI_CARBON_CONFIG_DIR`` or the project's ``config/``."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or CONFIG_DIR)


def user_config_path() -> Path:
    """The user's hardware file: ``$GENAI_CARBON_USER_CONFIG`` or ``~/.config/genai-carbon/hardware.yaml``."""
    return Path(os.environ.get(USER_CONFIG_ENV) or USER_CONFIG_DEFAULT).expanduser()


def _merge_user(model: ModelFile, path: Path) -> ModelFile:
    """Add the user's saved hardware to the shipped presets; a shipped name cannot be replaced."""
    user = validate_file(UserHardwareFile, read_yaml(path) or {}, path)
    for section in ("gpus", "hardware"):
        clash = sorted(set(getattr(user, section)) & set(getattr(model, section)))
        if clash:
            raise ConfigError(f"{path}: {section}.{clash[0]}: a shipped preset has this name; choose another")
    gpus = {**model.gpus, **user.gpus}
    for name, setup in user.hardware.items():
        if setup.gpu not in gpus:
            raise ConfigError(f"{path}: hardware.{name}.gpu: unknown gpu {setup.gpu!r}")
    return model.model_copy(update={"gpus": gpus, "hardware": {**model.hardware, **user.hardware}})


@lru_cache(maxsize=8)
def _load_catalogue(path: Path) -> CatalogueFile:
    return validate_file(CatalogueFile, read_yaml(path), path)


@lru_cache(maxsize=8)
def _load(directory: Path, user_path: Path | None = None, user_mtime_ns: int | None = None) -> Config:
    site = validate_file(SiteFile, read_yaml(directory / "config.yaml"), directory / "config.yaml")
    model = validate_file(ModelFile, read_yaml(directory / "config_model.yaml"), directory / "config_model.yaml")
    if user_path is not None:
        model = _merge_user(model, user_path)
    config = Config(site=site, model=model, directory=directory)
    checks = (("config.yaml", config.region), ("config.yaml", config.datacenter), ("config_model.yaml", config.hardware), ("config_model.yaml", config.profile))
    for file, look_up in checks:  # the defaults must name existing entries
        try:
            look_up()
        except UnknownNameError as error:
            raise ConfigError(f"{directory / file}: defaults: {error}") from None
    return config


def load_config(directory: Path | str | None = None, include_user: bool = True) -> Config:
    """Read and validate ``config.yaml``, ``config_model.yaml`` and the user's hardware file (``models.yaml`` on first use).

    Cached per folder and per version of the user's file (re-read after ``measure --save-profile``).
    ``include_user=False`` gives the shipped presets only.
    """
    folder = Path(directory) if directory is not None else config_dir()
    user_path = user_config_path()
    try:
        mtime_ns = user_path.stat().st_mtime_ns
    except OSError:
        return _load(folder)
    return _load(folder, user_path, mtime_ns) if include_user else _load(folder)
