"""Schemas of whole data-pack tables and of the manifest (:mod:`traitement.reference` imports this on first use).

A name look-up validates one entry with the entry schemas of :mod:`traitement.datapack`; these wrap
them for the whole files: the build validates every table with them, and so do the listings and tests.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..base import Frozen
from .schemas import GpuEntry, ModelEntry, RegionEntry, SourceEntry


class RegionTable(Frozen):
    table: Literal["regions"]
    version: str = Field(description="the pack version")
    entries: dict[str, RegionEntry] = Field(description="countries, subdivisions, cloud regions and the world by id")
    index: dict[str, str] = Field(description="every name (as name_key writes it) to its entry's id")
    ambiguous: dict[str, tuple[str, ...]] = Field(description="bare cloud region names several providers use, to their ids")


class ModelTable(Frozen):
    table: Literal["models"]
    version: str = Field(description="the pack version")
    entries: dict[str, ModelEntry] = Field(description="models by id")
    index: dict[str, str] = Field(description="every name and alias to its model's id")
    excluded: dict[str, str] = Field(description="names of the sources left out of the pack, with the reason")


class GpuTable(Frozen):
    table: Literal["gpus"]
    version: str = Field(description="the pack version")
    entries: dict[str, GpuEntry] = Field(description="GPU boards by id")
    index: dict[str, str] = Field(description="every name and alias to its board's id")


class SourceTable(Frozen):
    table: Literal["sources"]
    version: str = Field(description="the pack version")
    entries: dict[str, SourceEntry] = Field(description="sources by id")


class Manifest(Frozen):
    version: str = Field(description="the pack version, e.g. 2026.12")
    tables: dict[str, dict[str, Any]] = Field(description="file, entry count and sha256 of each table")
    source_files: dict[str, str] = Field(description="sha256 of each raw source file the pack was built from")
    counts: dict[str, int] = Field(description="headline counts (countries with a grid figure, subdivisions, ...)")


SCHEMAS: dict[str, type[BaseModel]] = {"regions": RegionTable, "models": ModelTable, "gpus": GpuTable, "sources": SourceTable}
