"""Reading and validating the YAML configuration, once, at the edge.

Core functions never read files: the interfaces call :func:`load_config` and
pass what they need. The shipped files are found through :mod:`traitement.paths`,
another folder through the settings (``GENAI_CARBON_CONFIG_DIR``), never
through the working directory. Every file is validated with ``extra="forbid"``; a bad file raises
:class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationInfo, model_validator
from pydantic.fields import FieldInfo

from . import reference
from .base import INTEGER, NUMBER, Frozen, check_against, parse
from .core import (
    MAX_TOKENS,
    BatchSize,
    BoardPowerW,
    DecodeSpeed,
    Fraction,
    GpuCount,
    GpuEmbodiedKg,
    HostPowerW,
    LifetimeYears,
    PrefillSpeed,
    Pue,
    ServerEmbodiedKg,
    TokenCount,
    WueSiteLPerKwh,
)
from .errors import CalculatorError, ConfigError, InvalidInputError, UnknownNameError
from .files import decode_utf8, load_yaml, read_bounded
from .paths import CONFIG_DIR, PROJECT_DIR
from .reference.schemas import GpuEntry, ModelEntry, RegionEntry
from .settings import load_settings

M = TypeVar("M", bound=BaseModel)
Real = Annotated[float, NUMBER]

MODELS_FILE = "models.yaml"
MAX_CONFIG_BYTES = 8 << 20
"""Largest config file read (8 MiB; the shipped ones are under 20 kB), the user's hardware file included."""


class Uncertain(Frozen):
    """A value with an optional range: ``{value: V, min: LO, max: HI}`` or a plain number."""

    value: Real = Field(description="the central value")
    min: Real | None = Field(None, description="the lowest plausible value (default: the value)")
    max: Real | None = Field(None, description="the highest plausible value (default: the value)")

    @model_validator(mode="before")
    @classmethod
    def _plain_number(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, (int, float)) and not isinstance(data, bool) else data

    @model_validator(mode="after")
    def _ordered(self) -> Uncertain:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"need min <= value <= max, got min={self.low:g}, value={self.value:g}, max={self.high:g}")
        return self

    @property
    def low(self) -> float:
        return self.value if self.min is None else self.min

    @property
    def high(self) -> float:
        return self.value if self.max is None else self.max


def within(kind: Any) -> AfterValidator:
    """``Annotated[Uncertain, within(Fraction)]``: the value and both ends of its range obey ``kind``'s bounds.

    ``kind`` is a constrained number type of :mod:`traitement.core` (the value
    object's own), so a range in the config is validated like the value it
    bounds (a utilisation range cannot reach 5, a speed's minimum cannot be 0).
    """
    constraints = next(argument for argument in get_args(kind) if isinstance(argument, FieldInfo))

    def check(uncertain: Uncertain) -> Uncertain:
        for end, number in (("value", uncertain.value), ("min", uncertain.min), ("max", uncertain.max)):
            problem = None if number is None else check_against(constraints, number)
            if problem is not None:
                raise ValueError(f"{end} {problem} (got {number:g})")
        return uncertain

    return AfterValidator(check)


def _lower_keys(value: Any) -> Any:
    """Table names are matched case-insensitively: keys are kept lowercase."""
    return {str(key).lower(): entry for key, entry in value.items()} if isinstance(value, dict) else value


LOWER_KEYS = BeforeValidator(_lower_keys)
Positive = Annotated[float, Field(gt=0), NUMBER]
Source = Annotated[str, Field(description="where the values come from")]


class DatacenterConfig(Frozen):
    pue: Annotated[Uncertain, within(Pue)] = Field(description="power usage effectiveness, from 1 to 3")
    wue_site_l_per_kwh: Annotated[Uncertain, within(WueSiteLPerKwh)] = Field(description="on-site water in L per kWh of IT energy, from 0 to 20")
    source: Source


class SiteDefaults(Frozen):
    region: str = Field(description="default region: a name or code of the reference-data pack (data/pack/regions.json)")
    datacenter: str = Field(description="default datacentre preset name")
    compared_regions: tuple[str, ...] = Field(description="the regions a comparison shows when none are named (names or codes of the data pack)")


class SiteFile(Frozen):
    """``config/config.yaml``: the datacentre presets (the grids are in the reference-data pack)."""

    defaults: SiteDefaults = Field(description="default names")
    datacenters: Annotated[dict[str, DatacenterConfig], LOWER_KEYS] = Field(description="datacentre presets by name")


class GpuConfig(Frozen):
    name: str = Field(description="product name")
    power_w: BoardPowerW = Field(description="board power (TDP) in W, > 0 and <= 5000")
    embodied_kgco2eq: Annotated[Uncertain, within(GpuEmbodiedKg)] = Field(description="manufacturing emissions of one board in kgCO2e")
    source: Source
    # Unknown (null) only for a measured machine saved by ``measure --save-profile``.
    memory_gb: Positive | None = Field(None, description="memory in GB, > 0 (null: unknown)")
    memory_bandwidth_tb_per_s: Positive | None = Field(None, description="memory bandwidth in TB/s, > 0 (null: unknown)")
    bf16_tflop_per_s: Positive | None = Field(None, description="dense bf16 compute in TFLOP/s, > 0 (null: unknown)")
    fp8_tflop_per_s: Positive | None = Field(None, description="dense fp8 compute in TFLOP/s, > 0 (null: unknown or no fp8 tensor cores)")

    @property
    def tensor16_tflop_per_s(self) -> float | None:
        """Dense 16-bit tensor compute (as the data pack's boards name it)."""
        return self.bf16_tflop_per_s


class HardwareConfig(Frozen):
    description: str = Field(description="what the setup is")
    gpu: str = Field(description="an entry of gpus")
    n_gpu: GpuCount = Field(description="number of GPUs, an integer from 1 to 1024")
    gpu_utilisation: Annotated[Uncertain, within(Fraction)] = Field(description="mean GPU draw as a fraction of board power, from 0 to 1")
    cpu_power_w: HostPowerW = Field(description="host CPU power in W, from 0 to 5000")
    cpu_utilisation: Annotated[Uncertain, within(Fraction)] = Field(description="mean CPU draw as a fraction of its power, from 0 to 1")
    prefill_tokens_per_s: Annotated[Uncertain, within(PrefillSpeed)] = Field(
        description="prompt reading speed of one request in tokens/s, from 0.01 to 10,000,000"
    )
    decode_tokens_per_s: Annotated[Uncertain, within(DecodeSpeed)] = Field(description="generation speed of one request in tokens/s, from 0.01 to 1,000,000")
    batch_size: Annotated[Uncertain, within(BatchSize)] = Field(description="requests served at once, from 1 to 100,000")
    server_embodied_kgco2eq: Annotated[Uncertain, within(ServerEmbodiedKg)] = Field(
        description="manufacturing emissions of the server without GPUs in kgCO2e, from 0 to 1,000,000"
    )
    lifetime_years: Annotated[Uncertain, within(LifetimeYears)] = Field(description="hardware lifetime in years, from 0.1 to 30")
    source: Source


class ProfileConfig(Frozen):
    description: str = Field(description="what the profile is")
    input_tokens: Annotated[Uncertain, within(TokenCount)] = Field(description=f"prompt length in tokens, from 1 to {MAX_TOKENS:,}")
    output_tokens: Annotated[Uncertain, within(TokenCount)] = Field(description=f"answer length in tokens, from 1 to {MAX_TOKENS:,}")
    source: Source


class AnalyticsConfig(Frozen):
    """``analytics:``: how daily counts of GenAI features become tokens (DESIGN.md section 7)."""

    topic_chars: Annotated[Uncertain, within(Positive)] = Field(description="characters of one documentation topic, > 0")
    prompt_chars: Annotated[Uncertain, within(Positive)] = Field(description="characters of the user's prompt, > 0")
    chatbot_topics: Annotated[Uncertain, within(Positive)] = Field(description="topics a chatbot conversation reads, > 0")
    completion_topics: Annotated[Uncertain, within(Positive)] = Field(description="topics a completion reads, > 0")
    output_chars: Annotated[Uncertain, within(Positive)] = Field(description="characters of a chatbot or completion answer, > 0")
    chars_per_token: Annotated[Uncertain, within(Positive)] = Field(description="characters per token of the input (English), > 0")
    translation_output_chars_per_token: Annotated[Uncertain, within(Positive)] = Field(
        description="characters per token of a translation's output (French, German, Spanish), > 0"
    )
    source: Source


class ModelDefaults(Frozen):
    hardware: str = Field(description="default hardware preset name")
    profile: str = Field(description="default usage profile name")
    board_model: str = Field(description="the model a bare GPU board (--hardware a10g) serves when no model is given: a model of the data pack")


def _known_gpus(hardware: dict[str, HardwareConfig], info: ValidationInfo) -> dict[str, HardwareConfig]:
    """Every serving setup names a GPU board of the same file."""
    gpus = info.data.get("gpus")
    for name, setup in hardware.items():
        if gpus is not None and setup.gpu not in gpus:
            raise ValueError(f"{name}.gpu: unknown gpu {setup.gpu!r}; known: {', '.join(gpus)}")
    return hardware


class ModelFile(Frozen):
    """``config/config_model.yaml``."""

    defaults: ModelDefaults = Field(description="default names")
    gpus: Annotated[dict[str, GpuConfig], LOWER_KEYS] = Field(description="GPU boards by name")
    hardware: Annotated[dict[str, HardwareConfig], LOWER_KEYS, AfterValidator(_known_gpus)] = Field(description="serving setups by name")
    profiles: Annotated[dict[str, ProfileConfig], LOWER_KEYS] = Field(description="usage profiles by name")
    analytics: AnalyticsConfig | None = Field(None, description="assumptions turning analytics counts into tokens")


class UserHardwareFile(Frozen):
    """The user's hardware file (``$GENAI_CARBON_USER_CONFIG``): measured machines, merged into ``config_model.yaml``."""

    gpus: Annotated[dict[str, GpuConfig], LOWER_KEYS] = Field(default_factory=dict, description="GPU boards by name")
    hardware: Annotated[dict[str, HardwareConfig], LOWER_KEYS] = Field(default_factory=dict, description="serving setups by name")


class CalibrationConfig(Frozen):
    """The published figure the implied mix is calibrated on."""

    model: str = Field(description="the catalogue's name of the reference model")
    active_params_b: Positive = Field(description="its active parameters in billions, > 0")
    output_tokens: Annotated[int, Field(ge=1), INTEGER] = Field(description="tokens of the reference answer, >= 1")
    carbon_gco2eq: Positive = Field(description="the published life-cycle carbon of that answer in gCO2e, > 0")
    source: Source


class ParameterMethodConfig(Frozen):
    """The constants of the parameter method (``parameter_method:`` in ``models.yaml``)."""

    alpha_wh_per_token_per_b_params: Positive = Field(description="Wh per output token per billion active parameters, > 0")
    beta_wh_per_token: Annotated[float, Field(ge=0), NUMBER] = Field(description="Wh per output token, >= 0")
    source: Source
    calibration: CalibrationConfig = Field(description="the calibration point of the implied mix")


class CatalogueFile(Frozen):
    """``config/models.yaml``: the constants of the parameter method (the models themselves are in the reference-data pack)."""

    parameter_method: ParameterMethodConfig = Field(description="constants of the parameter method")


def _lookup(table: Mapping[str, Any], name: str, kind: str, aliases: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """Case-insensitive look-up; an unknown name's error lists the known ones and the closest; an empty name is an error, never the default."""
    key = str(name).strip().lower()
    if not key:
        raise InvalidInputError(f"{kind}: must not be empty (got {name!r}); allowed: a {kind} name, e.g. {next(iter(sorted(table)), '')}", code=f"empty-{kind}")
    if key in table:
        return key, table[key]
    if aliases and key in aliases:
        return aliases[key], table[aliases[key]]
    import difflib  # only for the error message: not on the start-up path

    known = sorted(table)
    targets = {**{alias: target for alias, target in (aliases or {}).items()}, **{name: name for name in known}}
    close = list(dict.fromkeys(targets[match] for match in difflib.get_close_matches(key, list(targets), n=3, cutoff=0.6)))
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UnknownNameError(f"{kind}: unknown {kind} {name!r}{hint}; known: {', '.join(known)}", code=f"unknown-{kind}")


@dataclass(frozen=True)
class Config:
    """The validated configuration: look-ups by name, case-insensitive."""

    site: SiteFile
    model: ModelFile
    directory: Path

    def region(self, name: str | None = None, option: str = "region") -> tuple[str, RegionEntry]:
        """A grid of the reference-data pack by any of its names or codes (``usa``, ``FRA``, ``US-CA``, ``aws:us-east-1``).

        ``None`` is the default region; an empty string, an unknown name or a place without a grid figure is an error.
        """
        entry = reference.resolve_region(self.site.defaults.region if name is None else name, option)
        entry.require_grid(option)
        return entry.id, entry

    def datacenter(self, name: str | None = None) -> tuple[str, DatacenterConfig]:
        return _lookup(self.site.datacenters, self.site.defaults.datacenter if name is None else name, "datacenter")

    def hardware(self, name: str | None = None) -> tuple[str, HardwareConfig]:
        return _lookup(self.model.hardware, self.model.defaults.hardware if name is None else name, "hardware")

    def is_hardware_preset(self, name: str) -> bool:
        """True when ``name`` is a serving setup of ``config_model.yaml`` (else it may name a GPU board)."""
        return str(name).strip().lower() in self.model.hardware

    def gpu(self, name: str, option: str = "gpu") -> tuple[str, GpuConfig | GpuEntry]:
        """A GPU board: one of ``config_model.yaml`` (and the user's measured machines), else one of the reference-data pack."""
        key = str(name).strip().lower()
        if key in self.model.gpus:
            return key, self.model.gpus[key]
        entry = reference.resolve_gpu(name, option)
        return entry.id, entry

    def profile(self, name: str | None = None) -> tuple[str, ProfileConfig]:
        return _lookup(self.model.profiles, self.model.defaults.profile if name is None else name, "profile")

    def llm(self, name: str, option: str = "model") -> tuple[str, ModelEntry]:
        """A text-generation model of the reference-data pack by name, alias, snapshot or provider prefix."""
        entry = reference.resolve_model(name, option)
        return entry.id, entry

    def models_file(self) -> CatalogueFile:
        """``models.yaml`` of this folder (the parameter method's constants), read and validated on first use."""
        return _load_catalogue(self.directory / MODELS_FILE)


def parse_yaml(text: str | bytes, where: str | Path, error: type[CalculatorError] = ConfigError, code: str | None = None) -> Any:
    """Parse YAML text (bytes must be UTF-8) with the strict safe loader of :mod:`traitement.files`; a refusal raises
    ``error`` naming ``where`` and the line. Shared by the config, the analytics file and the validation cases."""
    if isinstance(text, bytes):
        text = decode_utf8(text, where, error, code)
    return load_yaml(text, where, error, code)


def read_yaml(path: Path, error: type[CalculatorError] = ConfigError, limit: int = MAX_CONFIG_BYTES, code: str | None = None) -> Any:
    """Parse one YAML file of at most ``limit`` bytes, UTF-8; errors name the file (and the line)."""
    return parse_yaml(read_bounded(path, limit, error), path, error, code)


def validate_file(schema: type[M], data: Any, path: Path) -> M:
    """Validate parsed YAML against ``schema``; errors name the file and the key."""
    return parse(schema, data, prefix=f"{path}: ", whole="file", error=ConfigError)


def config_dir() -> Path:
    """The folder holding the YAML files: ``$GENAI_CARBON_CONFIG_DIR`` or the project's ``config/``."""
    return load_settings().config_dir or CONFIG_DIR


def user_config_path() -> Path:
    """The user's hardware file: ``$GENAI_CARBON_USER_CONFIG`` or ``~/.config/genai-carbon/hardware.yaml``."""
    return load_settings().user_config.expanduser()


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
    catalogue = validate_file(CatalogueFile, read_yaml(path), path)
    calibration = catalogue.parameter_method.calibration
    try:
        listed = reference.resolve_model(calibration.model).active_params_b.value
    except UnknownNameError as error:
        raise ConfigError(f"{path}: parameter_method.calibration.model: {error}") from None
    if listed != calibration.active_params_b:
        raise ConfigError(
            f"{path}: parameter_method.calibration.active_params_b ({calibration.active_params_b:g}) differs from {calibration.model} ({listed:g})"
        )
    return catalogue


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
        except (UnknownNameError, InvalidInputError) as error:
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


__all__ = ["CONFIG_DIR", "PROJECT_DIR", "Config", "Uncertain", "config_dir", "load_config", "parse_yaml", "read_yaml", "user_config_path", "validate_file"]
