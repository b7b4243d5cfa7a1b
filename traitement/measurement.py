"""Method "measured": energy of a local run, measured by CodeCarbon.

    with traitement.measure(region="FRA", output_tokens=400) as meter:
        run_my_model()
    meter.result.to_dict()

Always CodeCarbon's *offline* tracker with an explicit country: the online one
calls the network and silently falls back to Quebec when it cannot reach it.
The figure is scope 2: the machine's electricity only (CPU, GPU, RAM), times
the region's grid intensity from the project's own data, the same figure
every other command uses for that region (``config.yaml``): CodeCarbon
measures the energy, the project gives the carbon. CodeCarbon reads RAPL
counters for the CPU and NVML for NVIDIA GPUs where they exist; elsewhere it
estimates the CPU from its TDP and load, and the RAM from its size. The
result says which (``sensors``).

CodeCarbon is imported inside the functions: ``import traitement`` stays fast.
The core never runs commands: the CLI does (``interface.py measure``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from . import physics
from .base import NUMBER, Frozen, parse
from .config import Config, load_config
from .core import MAX_TOKENS, IntensityGPerKwh, Label, TokenCount
from .errors import CalculatorError, ConfigError, InvalidInputError
from .methods.measured import COVERS, NAME
from .reference import pack_version

MEASURED_METHOD = NAME

# CodeCarbon's CPU modes (codecarbon.external.hardware.CPU._mode) -> what they are.
CPU_SENSORS = {
    "intel_rapl": "RAPL (CPU energy counters)",
    "intel_power_gadget": "Intel Power Gadget (CPU energy counters)",
    "windows_emi": "Windows EMI (CPU energy counters)",
    "cpu_load": "CPU-load model (TDP x load, no counter)",
    "constant": "constant model (half the TDP, no counter)",
}
MEASURING_CPU_MODES = frozenset({"intel_rapl", "intel_power_gadget", "windows_emi"})


class MeasureOptions(Frozen):
    """Options of the CLI's ``measure`` and ``compare``, validated like the API's requests."""

    region: Label = Field(description="region of the electricity: a region name or ISO code of the project's data (france, FRA, usa); see 'regions'")
    input_tokens: TokenCount | None = Field(None, description=f"prompt length of the measured run in tokens, an integer from 1 to {MAX_TOKENS:,}")
    output_tokens: TokenCount | None = Field(None, description=f"tokens written by the measured run, an integer from 1 to {MAX_TOKENS:,}")
    save_profile: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,47}$")] | None = Field(
        None, description="name of the hardware profile to save: 1 to 48 lowercase letters, digits, '-', '_', '.', starting with a letter or digit"
    )


MAX_MEASUREMENT_BYTES = 1 << 20
"""Largest saved measurement read by ``compare --from-json`` (``measure --json`` writes about 2 kB)."""
_Energy = Annotated[float, Field(ge=0, le=1e12), NUMBER]


class SavedMeasurement(Frozen):
    """What ``compare --from-json`` reads of a ``measure --json`` output (its other keys are not used)."""

    model_config = ConfigDict(extra="ignore")

    method: Literal["measured"] = Field(description="'measured': the output of 'measure --json'")
    region: Label | None = Field(None, description="the ISO alpha-3 code of the measured run's country")
    input_tokens: TokenCount | None = Field(None, description=f"prompt tokens of the run, an integer from 1 to {MAX_TOKENS:,}")
    output_tokens: TokenCount | None = Field(None, description=f"tokens the run wrote, an integer from 1 to {MAX_TOKENS:,}")
    energy_kwh: _Energy = Field(description="energy of the run in kWh, >= 0")
    carbon_gco2eq: _Energy = Field(description="carbon of the run in gCO2e, >= 0")
    intensity_gco2eq_per_kwh: IntensityGPerKwh = Field(description="grid intensity of the run in gCO2e/kWh, from 0 to 2000")
    sensors: dict[str, Annotated[str, Field(max_length=500)]] = Field(description="the sensor used for each part (cpu, gpu, ram)")
    warnings: list[Annotated[str, Field(max_length=2000)]] = Field([], description="the run's warnings")

    @model_validator(mode="after")
    def _carbon_is_energy_times_intensity(self) -> SavedMeasurement:
        """``measure`` writes carbon = energy x intensity: an edited figure would be shown beside a common perimeter that contradicts it."""
        expected = physics.carbon_gco2eq(self.energy_kwh, self.intensity_gco2eq_per_kwh)
        if not math.isclose(self.carbon_gco2eq, expected, rel_tol=1e-6, abs_tol=1e-12):
            raise ValueError(
                f"carbon_gco2eq ({self.carbon_gco2eq:g}) is not energy_kwh x intensity_gco2eq_per_kwh ({expected:g}); "
                "allowed: the figures of 'measure --json' as written"
            )
        return self


def load_measurement(path: Path | str) -> dict[str, Any]:
    """A measurement saved by ``measure --json``, read with bounds and validated; a refusal is one line naming the file and the key."""
    from .files import load_json, read_bounded

    data = load_json(read_bounded(path, MAX_MEASUREMENT_BYTES, InvalidInputError), path, InvalidInputError)
    return parse(SavedMeasurement, data, prefix=f"{path}: ", whole="file").model_dump()


class MeasureError(CalculatorError):
    """The measurement could not be made (CodeCarbon failed to start or stop)."""

    code = "measure-failed"
    exit_code = 1


@dataclass(frozen=True)
class Measurement:
    """What CodeCarbon measured over one run, in project units."""

    region: str
    country_iso_code: str
    country_name: str
    duration_s: float
    energy_kwh: float
    energy_cpu_kwh: float
    energy_gpu_kwh: float
    energy_ram_kwh: float
    carbon_gco2eq: float
    intensity_gco2eq_per_kwh: float
    intensity_source: str
    sensors: Mapping[str, str]
    hardware: Mapping[str, Any]
    input_tokens: int | None = None
    output_tokens: int | None = None
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    method = MEASURED_METHOD

    @property
    def mean_power_w(self) -> float:
        """Mean electrical power over the run, in watts: energy / duration."""
        return mean_power_w(self.energy_kwh, self.duration_s)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "scope": "scope 2, electricity only",
            "region": self.region,
            "country_iso_code": self.country_iso_code,
            "country_name": self.country_name,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "duration_s": self.duration_s,
            "energy_kwh": self.energy_kwh,
            "energy_cpu_kwh": self.energy_cpu_kwh,
            "energy_gpu_kwh": self.energy_gpu_kwh,
            "energy_ram_kwh": self.energy_ram_kwh,
            "mean_power_w": self.mean_power_w,
            "carbon_gco2eq": self.carbon_gco2eq,
            "intensity_gco2eq_per_kwh": self.intensity_gco2eq_per_kwh,
            "intensity_source": self.intensity_source,
            "sensors": dict(self.sensors),
            "hardware": dict(self.hardware),
        }
        if self.output_tokens:
            out["energy_wh_per_output_token"] = self.energy_kwh * physics.WH_PER_KWH / self.output_tokens
            out["output_tokens_per_s"] = self.output_tokens / self.duration_s
        out.update(self.extra)
        out["covers"] = dict(COVERS)
        out["warnings"] = list(self.warnings)
        return out


def mean_power_w(energy_kwh, duration_s):
    """Mean power in watts: energy in kWh x 3.6e6 J/kWh / seconds."""
    return energy_kwh * physics.J_PER_KWH / duration_s


# --- CodeCarbon's data -----------------------------------------------------------


def _quiet_codecarbon() -> None:
    """CodeCarbon logs at INFO by default: keep errors only (before its first import, and after)."""
    import logging

    os.environ.setdefault("CODECARBON_LOG_LEVEL", "error")
    logging.getLogger("codecarbon").setLevel(logging.ERROR)


def codecarbon_countries() -> dict[str, Any]:
    """CodeCarbon's per-country energy mix data (``global_energy_mix.json``), by ISO 3166-1 alpha-3 code."""
    _quiet_codecarbon()
    from codecarbon.input import DataSource

    return DataSource().get_global_energy_mix_data()


TRACKER_FALLBACK_COUNTRY = "USA"
"""The country given to CodeCarbon's tracker for a region it has no data for (``world``): its country changes none of
the figures kept here (the energy is measured; the intensity is the project's)."""


def resolve_region(name: str, config: Config | None = None) -> tuple[str, str, float, str]:
    """The project's region for ``name`` (a name or ISO code, as every command takes it), the ISO code given to
    CodeCarbon's tracker, the project's grid intensity in gCO2e/kWh and where that figure comes from.

    An unknown name is the one-line ``unknown-region`` error of every other command, naming the closest regions.
    """
    if isinstance(name, str) and not name.strip():
        raise InvalidInputError("region: must not be empty; allowed: a region name or ISO code, see 'regions'")
    key, region = (config or load_config()).region(str(name).strip())
    country = region.country or ""  # a subdivision or cloud region: its country's code
    tracker_country = country if country in codecarbon_countries() else TRACKER_FALLBACK_COUNTRY
    figure = f"{region.carbon_source} {region.carbon_year}"
    return key, tracker_country, region.require_grid(), f"the project's grid figure for {key} (data pack {pack_version()}: {figure})"


# --- the tracker -----------------------------------------------------------------


def sensors_used(tracker: Any) -> dict[str, str]:
    """Which sensor CodeCarbon used for the CPU, the GPU and the RAM (from the tracker's hardware list)."""
    sensors = {"cpu": "none", "gpu": "none (no GPU found)", "ram": "none"}
    for item in getattr(tracker, "_hardware", []):
        kind = type(item).__name__
        if kind == "CPU":
            mode = getattr(item, "_mode", "unknown")
            sensors["cpu"] = CPU_SENSORS.get(mode, f"CodeCarbon mode {mode!r}")
        elif kind == "GPU":
            devices = getattr(getattr(item, "devices", None), "devices", [])
            vendors = sorted({"NVML (NVIDIA GPU energy counters)" if "Nvidia" in type(d).__name__ else "AMD SMI (AMD GPU energy counters)" for d in devices})
            sensors["gpu"] = ", ".join(vendors) or "GPU found, no device"
        elif kind == "RAM":
            sensors["ram"] = "RAM model (power from memory size, no counter)"
        elif kind == "AppleSiliconChip":
            sensors["cpu" if getattr(item, "chip_part", "CPU") != "GPU" else "gpu"] = "powermetrics (Apple Silicon counters)"
        else:
            sensors[kind.lower()] = f"CodeCarbon {kind}"
    return sensors


def sensor_warnings(tracker: Any) -> tuple[str, ...]:
    """Say plainly when no hardware counter was available."""
    cpu_modes = [getattr(item, "_mode", None) for item in getattr(tracker, "_hardware", []) if type(item).__name__ == "CPU"]
    has_counter = any(mode in MEASURING_CPU_MODES for mode in cpu_modes)
    has_gpu = any(type(item).__name__ == "GPU" for item in getattr(tracker, "_hardware", []))
    notes = []
    if not has_counter:
        notes.append(
            "no RAPL (or other CPU energy counter) readable on this machine: the CPU energy is CodeCarbon's model "
            "(TDP x load), an estimate, not a measurement"
        )
    if not has_gpu:
        notes.append("no GPU found (no NVML): GPU energy is 0")
    notes.append("RAM energy is CodeCarbon's model from the memory size, not a measurement")
    return tuple(notes)


class measure:
    """Context manager measuring the code inside it with CodeCarbon's offline tracker.

    ``meter.result`` is a :class:`Measurement` after the block. Token counts can
    be given up front or set inside the block (``meter.output_tokens = n``).
    The whole machine is measured (CodeCarbon's ``machine`` mode).
    """

    def __init__(
        self,
        region: str = "france",
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        measure_power_s: float = 1.0,
        config: Config | None = None,
    ) -> None:
        for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidInputError(f"{name}: must be a positive integer (got {value!r}); allowed: an integer >= 1, or None")
        self.region, self.country_iso_code, self.intensity_gco2eq_per_kwh, self.intensity_source = resolve_region(region, config)
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.measure_power_s = measure_power_s
        self.result: Measurement | None = None
        self._tracker: Any = None

    def __enter__(self) -> measure:
        _quiet_codecarbon()
        from codecarbon import OfflineEmissionsTracker

        self._tracker = OfflineEmissionsTracker(
            country_iso_code=self.country_iso_code,
            output_methods=[],  # no emissions.csv, no API, no logger: the result is read from final_emissions_data
            log_level="error",
            measure_power_secs=self.measure_power_s,
        )
        self._tracker.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._tracker.stop()
        data = getattr(self._tracker, "final_emissions_data", None)
        if data is None:
            raise MeasureError("CodeCarbon produced no measurement (its tracker failed to start or stop)")
        self.result = Measurement(
            region=self.region,
            country_iso_code=self.country_iso_code,
            country_name=data.country_name,
            duration_s=data.duration,
            energy_kwh=data.energy_consumed,
            energy_cpu_kwh=data.cpu_energy,
            energy_gpu_kwh=data.gpu_energy,
            energy_ram_kwh=data.ram_energy,
            carbon_gco2eq=physics.carbon_gco2eq(data.energy_consumed, self.intensity_gco2eq_per_kwh),
            intensity_gco2eq_per_kwh=self.intensity_gco2eq_per_kwh,
            intensity_source=self.intensity_source,
            sensors=sensors_used(self._tracker),
            hardware={
                "cpu_model": data.cpu_model,
                "cpu_count": data.cpu_count,
                "gpu_model": data.gpu_model,
                "gpu_count": data.gpu_count,
                "ram_total_size_gb": data.ram_total_size,
                "tracking_mode": data.tracking_mode,
                "codecarbon_version": data.codecarbon_version,
            },
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            warnings=sensor_warnings(self._tracker),
        )


# --- a hardware profile from a measurement ---------------------------------------


def calibrate_profile(
    energy_kwh: float,
    duration_s: float,
    output_tokens: int,
    input_tokens: int = 0,
    prefill_to_decode_ratio: float = 125.0,
) -> dict[str, float]:
    """Power and speeds that make method 'hardware' reproduce a measured run.

    The measured mean power (energy / duration) becomes one board at full
    draw. The run's duration is split so that the same token counts take the
    same time: ``input / prefill + output / decode = duration``, with prefill
    ``prefill_to_decode_ratio`` times faster per token than decode (the default
    hardware preset's ratio: one measurement cannot separate the two phases).
    """
    power_w = mean_power_w(energy_kwh, duration_s)
    decode_tokens_per_s = (input_tokens / prefill_to_decode_ratio + output_tokens) / duration_s
    return {
        "power_w": power_w,
        "decode_tokens_per_s": decode_tokens_per_s,
        "prefill_tokens_per_s": decode_tokens_per_s * prefill_to_decode_ratio,
    }


def save_profile(path: Path, name: str, result: Measurement, prefill_to_decode_ratio: float, today: str) -> dict[str, Any]:
    """Write the hardware profile ``name`` calibrated on ``result`` into the user's hardware file (created if missing)."""
    import yaml

    if not result.output_tokens:
        raise InvalidInputError("--out_tok (output_tokens): required to save a profile (it gives the speed); allowed: an integer >= 1")
    if result.energy_kwh <= 0 or result.duration_s <= 0:
        raise MeasureError("the measurement has no energy or no duration: nothing to calibrate a profile on")
    fitted = calibrate_profile(result.energy_kwh, result.duration_s, result.output_tokens, result.input_tokens or 0, prefill_to_decode_ratio)
    sensors = "; ".join(f"{part}: {how}" for part, how in result.sensors.items())
    measured = (
        f"measured with CodeCarbon {result.hardware.get('codecarbon_version')} on {today}: {result.input_tokens or 0} tokens in, "
        f"{result.output_tokens} out in {result.duration_s:.4g} s, {result.energy_kwh:.6g} kWh ({sensors})"
    )
    board = f"measured-{name}"
    machine = result.hardware.get("cpu_model") or "CPU"
    if result.hardware.get("gpu_model"):
        machine += f" + {result.hardware['gpu_model']}"
    gpu = {
        "name": f"measured machine: {machine}",
        "power_w": fitted["power_w"],
        "memory_gb": None,
        "memory_bandwidth_tb_per_s": None,
        "bf16_tflop_per_s": None,
        "embodied_kgco2eq": 0.0,
        "source": f"{measured}; power_w = mean power of the whole machine; embodied not known (0)",
    }
    setup = {
        "description": f"this machine, as measured ({result.output_tokens} output tokens in {result.duration_s:.3g} s); "
        "use --pue 1 for a machine outside a datacentre",
        "gpu": board,
        "n_gpu": 1,
        "gpu_utilisation": 1.0,
        "cpu_power_w": 0.0,
        "cpu_utilisation": 0.0,
        "prefill_tokens_per_s": fitted["prefill_tokens_per_s"],
        "decode_tokens_per_s": fitted["decode_tokens_per_s"],
        "batch_size": 1.0,
        "server_embodied_kgco2eq": 0.0,
        "lifetime_years": 4.0,
        "source": f"{measured}; the measured power is the whole machine (CPU, GPU, RAM) at full draw; "
        f"decode speed such that the measured tokens take the measured time, prefill {prefill_to_decode_ratio:g} x faster",
    }
    data: dict[str, Any] = {}
    if path.exists():
        from .config import read_yaml

        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: must be a mapping of gpus and hardware; allowed: the user's hardware file")
    data.setdefault("gpus", {})[board] = gpu
    data.setdefault("hardware", {})[name] = setup
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Hardware profiles saved by 'genai-carbon measure --save-profile NAME'; merged into the shipped presets.\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return {"profile": name, "path": str(path), **fitted}


# --- compare ---------------------------------------------------------------------


def compare(measured: Mapping[str, Any], api_scope3: Mapping[str, Any], api_grid: Mapping[str, Any]) -> dict[str, Any]:
    """A measured local run beside an API model's parameter estimate for the same tokens.

    ``measured`` is :meth:`Measurement.to_dict`, ``api_scope3`` and ``api_grid``
    the parameter method with the implied mix and with the region's grid. The
    common perimeter is scope 2 electricity at ONE grid intensity (the
    region's, from ``config.yaml``) for both sides.
    """
    intensity = api_grid["assumptions"]["carbon_intensity_gco2eq_per_kwh"]
    local_common = physics.carbon_gco2eq(measured["energy_kwh"], intensity)
    return {
        "warning": "different perimeters: the local figure is scope 2 (this machine's electricity only), the API figure with the implied mix is "
        "scope 3 (life cycle: manufacturing, datacentre and more); the API will look higher partly for that reason. Compare on the common perimeter.",
        "local": {
            "scope": "scope 2, electricity only",
            "energy_kwh": measured["energy_kwh"],
            "carbon_gco2eq": measured["carbon_gco2eq"],
            "intensity_gco2eq_per_kwh": measured["intensity_gco2eq_per_kwh"],
            "sensors": measured["sensors"],
        },
        "api": {
            "scope": "scope 3, life cycle (implied mix)",
            "model": api_scope3["model"],
            "energy_kwh": api_scope3["energy_kwh"],
            "carbon_gco2eq": api_scope3["carbon_gco2eq"],
            "carbon_gco2eq_min": api_scope3["carbon_gco2eq_min"],
            "carbon_gco2eq_max": api_scope3["carbon_gco2eq_max"],
        },
        "common_perimeter": {
            "perimeter": f"scope 2 electricity at one grid intensity, {api_grid['region']} {intensity:g} gCO2e/kWh (config.yaml); "
            "local: the whole machine; API: one GPU per the regression (no server, no PUE)",
            "region": api_grid["region"],
            "intensity_gco2eq_per_kwh": intensity,
            "local_carbon_gco2eq": local_common,
            "api_carbon_gco2eq": api_grid["carbon_gco2eq"],
            "api_over_local": api_grid["carbon_gco2eq"] / local_common if local_common > 0 else None,
        },
        "input_tokens": measured.get("input_tokens"),
        "output_tokens": measured.get("output_tokens"),
    }
