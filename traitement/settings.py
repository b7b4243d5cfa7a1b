"""Every setting read from the environment, in one place: the ``GENAI_CARBON_*`` variables.

One pydantic-settings class, :class:`Settings`, validated at start by the CLI
(``genai_carbon.cli``) and by the API (``genai_carbon.webapi``):
:func:`load_settings` turns a bad value, or a ``GENAI_CARBON_*`` variable that
names no setting, into one line naming the variable and what is allowed
(:class:`~traitement.errors.ConfigError`: exit code 1, like a broken config file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .base import NUMBER
from .errors import ConfigError, format_validation_error

ENV_PREFIX = "GENAI_CARBON_"


def _whole_number(value: Any) -> Any:
    """A byte count from the environment: digits only (``1e6``, ``-1``, ``1_000`` and ``abc`` are refused)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("whole_number", "must be a whole number of bytes, written with digits only")
    return value


ByteCount = Annotated[int, Field(ge=1), BeforeValidator(_whole_number)]


def _count(value: Any) -> Any:
    """A count from the environment: digits only (``1e6``, ``-1``, ``1_000`` and ``abc`` are refused)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("whole_number", "must be a whole number, written with digits only")
    return value


Count = Annotated[int, Field(ge=1), BeforeValidator(_count)]


class Settings(BaseSettings):
    """The calculator's settings; each field is read from ``GENAI_CARBON_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid")

    config_dir: Path | None = Field(
        None, description="a folder holding the YAML config files (config.yaml, config_model.yaml, models.yaml, energy_model.yaml); default: config/"
    )
    pack_dir: Path | None = Field(None, description="a folder holding a reference-data pack (regions.json, models.json, gpus.json, ...); default: data/pack/")
    user_config: Path = Field(
        Path("~/.config/genai-carbon/hardware.yaml"), description="the user's hardware file, where 'measure --save-profile' writes its profiles"
    )
    max_body_bytes: ByteCount = Field(1024 * 1024, description="largest request body of the API in bytes, a whole number >= 1 (default 1 MiB)")
    batch_max_bytes: ByteCount = Field(50 << 20, description="largest request log uploaded to POST /batch in bytes, a whole number >= 1 (default 50 MiB)")
    batch_max_rows: Count = Field(100_000_000, description="most rows of a Parquet request log (read from its metadata), a whole number >= 1")
    batch_max_row_groups: Count = Field(4_096, description="most row groups of a Parquet request log, a whole number >= 1")
    batch_max_line_bytes: ByteCount = Field(1 << 20, description="longest line of a CSV or JSON Lines request log in bytes, a whole number >= 1 (1 MiB)")
    batch_max_document_bytes: ByteCount = Field(
        64 << 20,
        description="largest JSON document of a provider's usage export (a page or trace request: a JSON Lines line, or the whole file) in bytes, "
        "a whole number >= 1 (64 MiB)",
    )
    batch_max_groups: Count = Field(10_000, description="most groups in the answer of a request log, a whole number >= 1")
    batch_max_cells: Count = Field(
        100_000, description="most distinct (hardware, region, datacenter, profile, model, group) sums of a request log, a whole number >= 1"
    )
    batch_memory_mb: Count = Field(1_024, description="DuckDB's memory for a request log in MiB (beyond, it spills to a temporary folder), a whole number >= 1")
    batch_threads: Annotated[int, Field(ge=0), BeforeValidator(_count)] = Field(
        0, description="DuckDB's threads for a request log, a whole number; 0: one per core (the default)"
    )
    body_timeout_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False), NUMBER] = Field(
        30.0, description="seconds the API waits for the next part of a request body before answering 408, > 0 and <= 3600 (default 30)"
    )
    cors_origins: str = Field("", description="origins allowed by the API's CORS, comma separated, or *; empty: CORS off (the default)")
    chromium: str | None = Field(None, description="tests only: the Chromium binary of the browser tests (default: chromium on PATH)")
    screenshot_dir: Path | None = Field(
        None, description="tests only: a folder for the browser tests' screenshots at 1280 and 390 px (default: under pytest's temporary folder)"
    )

    @property
    def origins(self) -> list[str]:
        """The CORS origins as a list (empty: CORS off)."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


def variable(field: str) -> str:
    """The environment variable of a setting: ``batch_max_bytes`` -> ``GENAI_CARBON_BATCH_MAX_BYTES``."""
    return ENV_PREFIX + field.upper()


class _AsVariables:
    """A validation error whose locations are the environment variables' names, for the one formatter."""

    def __init__(self, error: ValidationError) -> None:
        self._errors = error.errors()

    def errors(self) -> list[dict[str, Any]]:
        return [{**problem, "loc": (variable(str(problem["loc"][0])),) if problem["loc"] else ()} for problem in self._errors]


def load_settings() -> Settings:
    """The settings from the environment, validated; a bad one raises a one-line :class:`ConfigError`."""
    known = {variable(name) for name in Settings.model_fields}
    unknown = sorted(name for name in os.environ if name.upper().startswith(ENV_PREFIX) and name.upper() not in known)
    if unknown:
        raise ConfigError(f"{unknown[0]}: no such setting; allowed: {', '.join(sorted(known))}", code="invalid-setting")
    try:
        return Settings()
    except ValidationError as error:
        descriptions = {variable(name): info for name, info in Settings.model_fields.items()}
        raise ConfigError(format_validation_error(_AsVariables(error), descriptions), code="invalid-setting") from None
