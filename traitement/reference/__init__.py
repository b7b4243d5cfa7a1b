"""The reference-data pack: grids of every country, sub-national grids, cloud regions, models and GPU boards.

``scripts/build_data_pack.py`` generates ``data/pack/`` (JSON, one file per table, versioned) from the
raw source files of ``data/sources/``; ``docs/data-pack.md`` says what is in it. This module reads it:

* **lazily**: a table is read on its first use and kept for the process (``lru_cache`` on module
  functions); resolving a region reads ``regions.json`` only, a model ``models.json`` only;
* **validated**: every table has a pydantic schema (``extra="forbid"``); a look-up validates the entry
  it returns, :func:`table` validates a whole table (the listings, the tests, the build);
* **by the names users write**: case, accents, spaces and underscores do not matter; ISO 3166-1
  alpha-3 and alpha-2 codes, ISO 3166-2 codes (``US-CA``), English names and aliases (``UK``), cloud
  regions with their provider (``aws:us-east-1``), models by name, alias, dated snapshot or provider
  prefix (``openai/gpt-4o``), GPU boards by product name (``a100-sxm4-80gb``, ``H100 SXM``).

An unknown name, an empty string or a code of the wrong shape raises the core's
:class:`~traitement.errors.UnknownNameError` or :class:`~traitement.errors.InvalidInputError` with a
one-line message that names the option, the kind of name and the closest matches.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, InvalidInputError, UnknownNameError
from ..files import load_json, read_bounded
from ..paths import PACK_DIR
from ..settings import load_settings, variable
from .schemas import GpuEntry, ModelEntry, Range, RegionEntry, SourceEntry

if TYPE_CHECKING:
    from .tables import Manifest


TABLES = ("regions", "models", "gpus", "sources")
CLOUD_PROVIDERS = ("aws", "gcp", "azure")
PROVIDER_PREFIXES = {"amazon": "aws", "google": "gcp", "gcloud": "gcp", "microsoft": "azure"}
"""Other ways to write a cloud provider before the colon: ``google:europe-west9`` is ``gcp:europe-west9``."""
MAX_NAME_CHARS = 200
_ALLOWED = re.compile(r"^[\w .,'’()&:/@+-]+$")
_SUBDIVISION = re.compile(r"^[a-z]{2}-[a-z0-9]{1,3}$")
_SNAPSHOT = re.compile(r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}))$")
_VERSION_DOT = re.compile(r"(?<=-\d)\.(?=\d(?:-|$))")
"""The dot of a one-digit version between dashes (``-3.5-``), which some ids write with a dash (``claude-3-5-sonnet``)."""
_VENDOR = re.compile(r"^(?:nvidia-|amd-|tesla-|instinct-|amd-instinct-)+")


def name_key(text: str) -> str:
    """The form a name is compared in: accents dropped, case folded, spaces and underscores as ``-``.

    ``"Côte d'Ivoire"`` -> ``"cote-divoire"``, ``"H100 SXM"`` -> ``"h100-sxm"``, ``"US-CA"`` -> ``"us-ca"``.
    Dots, colons and slashes stay: ``llama-3.1-8b``, ``aws:us-east-1`` and ``openai/gpt-4o`` keep their meaning.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    folded = re.sub(r"[\s_]+", "-", plain.casefold().strip())
    folded = re.sub(r"['’`,()]", "", folded)
    return re.sub(r"-{2,}", "-", folded).strip("-")


_ENTRIES: dict[str, type[BaseModel]] = {"regions": RegionEntry, "models": ModelEntry, "gpus": GpuEntry, "sources": SourceEntry}


# ---------------------------------------------------------------------------------------------
# Loading: one table at a time, cached per process.


MAX_TABLE_BYTES = 64 << 20
"""Largest table of a data pack read (64 MiB; the shipped tables are under 300 kB)."""


def pack_dir() -> Path:
    """The folder holding the pack: ``$GENAI_CARBON_PACK_DIR`` or the project's ``data/pack``."""
    return _pack_dir(os.environ.get(variable("pack_dir")))


@lru_cache(maxsize=4)
def _pack_dir(raw: str | None) -> Path:
    """The settings read once per value of the variable (building them costs about 2 ms; a look-up asks several times)."""
    return load_settings().pack_dir or PACK_DIR


@lru_cache(maxsize=16)
def _read(directory: Path, name: str) -> dict[str, Any]:
    path = directory / f"{name}.json"
    try:  # bounded, like every file the tool reads (docs/reliability.md): a pack folder set by GENAI_CARBON_PACK_DIR may hold anything
        data = load_json(read_bounded(path, MAX_TABLE_BYTES, ConfigError), path, ConfigError, code="invalid-data-pack")
    except ConfigError as error:
        if error.code != "file-not-found":
            raise
        raise ConfigError(f"{path}: data pack table not found (rebuild with python scripts/build_data_pack.py)") from None
    if not isinstance(data, dict) or (name != "manifest" and data.get("table") != name):
        raise ConfigError(f"{path}: not the {name!r} table of a data pack")
    return data


def raw_table(name: str) -> dict[str, Any]:
    """The JSON of one table as read (no validation): ``regions``, ``models``, ``gpus``, ``sources`` or ``manifest``."""
    return _read(pack_dir(), name)


_RANGES = frozenset({"total_params_b", "active_params_b", "embodied_kgco2eq"})
_TUPLES = frozenset({"aliases", "urls", "files", "feeds"})


@lru_cache(maxsize=16)
def _trusted(directory: Path, name: str) -> bool:
    """True when the table's bytes are those the build validated (its sha256 in the manifest)."""
    import hashlib

    try:
        recorded = _read(directory, "manifest")["tables"][name]["sha256"]
        return hashlib.sha256((directory / f"{name}.json").read_bytes()).hexdigest() == recorded
    except (ConfigError, KeyError, OSError):
        return False


@lru_cache(maxsize=4096)
def _entry(directory: Path, name: str, ident: str) -> Any:
    raw = _read(directory, name)["entries"][ident]
    schema = _ENTRIES[name]
    if _trusted(directory, name):
        # The build validated every entry with these schemas and the manifest vouches for the bytes:
        # construct without re-validating (building a schema costs 20-50 ms, once per process).
        values: dict[str, Any] = {
            key: (Range.model_construct(**value) if key in _RANGES and value is not None else tuple(value) if key in _TUPLES else value)
            for key, value in raw.items()
        }
        return schema.model_construct(None, **values)
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{directory / name}.json: entries.{ident}: {error.errors()[0]['msg']}") from None


def entry(name: str, ident: str) -> Any:
    """One validated entry of a table by its canonical id."""
    return _entry(pack_dir(), name, ident)


@lru_cache(maxsize=8)
def _table(directory: Path, name: str) -> Any:
    from .tables import SCHEMAS  # whole-table schemas: not needed by a look-up

    try:
        return SCHEMAS[name].model_validate(_read(directory, name))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{directory / name}.json: {where}: {first['msg']}") from None


def table(name: str) -> Any:
    """A whole table, validated (listings, tests): a :mod:`~traitement.reference.tables` schema."""
    if name not in TABLES:
        raise InvalidInputError(f"table: unknown data pack table {name!r}; known: {', '.join(TABLES)}")
    return _table(pack_dir(), name)


def manifest() -> Manifest:
    """The pack's manifest: version, tables, source files, counts."""
    from .tables import Manifest

    return Manifest.model_validate(raw_table("manifest"))


def pack_version() -> str:
    """The version of the pack (e.g. ``2026.12``); every estimate's output carries it."""
    return str(raw_table("manifest")["version"])


def sources() -> list[SourceEntry]:
    """Every source of the pack with its licence, year and what it feeds."""
    return list(table("sources").entries.values())


# ---------------------------------------------------------------------------------------------
# Name resolution.


def _clean(value: Any, option: str, kind: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInputError(f"{option}: must not be empty; allowed: a {kind} name or code", code=f"invalid-{kind}")
    if not isinstance(value, str):
        raise InvalidInputError(f"{option}: must be a {kind} name, got {type(value).__name__}", code=f"invalid-{kind}")
    text = unicodedata.normalize("NFC", value.strip())  # "E" + U+0301 (as some keyboards type it) is "É"
    if len(text) > MAX_NAME_CHARS or not _ALLOWED.match(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise InvalidInputError(
            f"{option}: {shown!r} is not a {kind} name (letters, digits, spaces and - . : / only, at most {MAX_NAME_CHARS} characters)", code=f"invalid-{kind}"
        )
    return text


_SUGGEST: ContextVar[bool] = ContextVar("suggest_closest_names", default=True)
"""Whether an unknown name's error lists the closest names (a few milliseconds each: difflib over every name)."""


@contextmanager
def without_suggestions() -> Iterator[None]:
    """Unknown names raise without the closest names: a request log of 100,000 distinct unknown model names took four
    minutes computing suggestions its message never shows."""
    token = _SUGGEST.set(False)
    try:
        yield
    finally:
        _SUGGEST.reset(token)


def _closest(key: str, data: dict[str, Any], describe: Any, restrict: Any = None, n: int = 3) -> str:
    import difflib  # the error path only

    if not _SUGGEST.get():
        return ""

    index: dict[str, str] = data["index"]
    keys = [candidate for candidate, ident in index.items() if restrict is None or restrict(ident)]
    longer = sorted((candidate for candidate in keys if candidate.startswith(key) and len(key) >= 3), key=len)  # "qwen3-30b": qwen3-30b-a3b first
    matches = longer[:n] + difflib.get_close_matches(key, keys, n=12, cutoff=0.6)
    idents = list(dict.fromkeys(index[match] for match in matches))[:n]
    return "; closest: " + ", ".join(describe(ident) for ident in idents) if idents else ""


def _describe_region(data: dict[str, Any]) -> Any:
    def describe(ident: str) -> str:
        entry = data["entries"][ident]
        return ident if entry["kind"] == "cloud" else f"{entry['name']} ({ident})"

    return describe


def resolve_region(name: Any, option: str = "region") -> RegionEntry:
    """The country, subdivision, cloud region or world entry ``name`` designates.

    ``"ESP"``, ``"es"``, ``"spain"``, ``"US-CA"``, ``"california"``, ``"aws:us-east-1"``, ``"gcp:europe-west9"``,
    ``"azure:westeurope"``, ``"us-east-1"`` (a bare cloud region, where one provider only has it), ``"world"``.
    """
    text = _clean(name, option, "region")
    data = raw_table("regions")
    key = name_key(text)
    if ":" in key:
        provider, _, rest = key.partition(":")
        key = f"{PROVIDER_PREFIXES.get(provider, provider)}:{rest}"
    ident = data["index"].get(key)
    if ident is not None:
        return entry("regions", ident)
    if key in data["ambiguous"]:
        choices = ", ".join(data["ambiguous"][key])
        raise UnknownNameError(f"{option}: {text!r} is a region of several cloud providers; write one of {choices}", code="ambiguous-region")
    describe = _describe_region(data)
    if ":" in key:
        provider, _, rest = key.partition(":")
        if provider not in CLOUD_PROVIDERS:
            raise UnknownNameError(f"{option}: unknown cloud provider {provider!r} in {text!r}; known: {', '.join(CLOUD_PROVIDERS)}", code="unknown-region")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", rest):
            raise InvalidInputError(
                f"{option}: {text!r} is not a cloud region; allowed: provider:region, e.g. aws:us-east-1, gcp:europe-west9, azure:westeurope",
                code="invalid-region",
            )
        hint = _closest(key, data, describe, lambda ident: ident.startswith(provider + ":"))
        raise UnknownNameError(f"{option}: unknown {provider} region {rest!r}{hint}", code="unknown-region")
    if key.isdigit():
        raise InvalidInputError(f"{option}: {text!r} is a number; allowed: a country, ISO 3166 code, subdivision or cloud region", code="invalid-region")
    if _SUBDIVISION.match(key):
        country = key[:2]
        hint = _closest(key, data, describe, lambda ident: ident.lower().startswith(country + "-"))
        raise UnknownNameError(f"{option}: unknown ISO 3166-2 subdivision {text.upper()!r}{hint}", code="unknown-region")
    if re.fullmatch(r"[a-z]{2,3}", key) and text.isupper():
        hint = _closest(key, data, describe, lambda ident: data["entries"][ident]["kind"] == "country")
        raise UnknownNameError(f"{option}: unknown ISO 3166-1 code {text!r}{hint}", code="unknown-region")
    raise UnknownNameError(f"{option}: unknown region {text!r}{_closest(key, data, describe)}", code="unknown-region")


def _model_candidates(key: str) -> list[tuple[str, str | None]]:
    """(key to look up, provider prefix the user wrote) in the order tried."""
    candidates: list[tuple[str, str | None]] = [(key, None)]
    if "/" in key:
        owner, _, rest = key.rpartition("/")
        candidates.append((rest, owner.split("/")[0]))
    for candidate, prefix in list(candidates):
        stripped = _SNAPSHOT.sub("", candidate)
        if stripped != candidate:
            candidates.append((stripped, prefix))
    for candidate, prefix in list(candidates):  # claude-3.5-sonnet (OpenRouter's spelling) is claude-3-5-sonnet, when no id has the dot
        dashed = _VERSION_DOT.sub("-", candidate)
        if dashed != candidate:
            candidates.append((dashed, prefix))
    return candidates


_MODEL_PROVIDER_PREFIXES = {
    "openai": "openai", "anthropic": "anthropic", "google": "google", "gemini": "google", "meta": "meta", "meta-llama": "meta",
    "mistral": "mistral", "mistralai": "mistral", "qwen": "alibaba", "alibaba": "alibaba", "deepseek": "deepseek",
    "deepseek-ai": "deepseek", "cohere": "cohere", "coherelabs": "cohere", "cohereforai": "cohere", "xai": "xai",
    "x-ai": "xai", "xai-org": "xai", "microsoft": "microsoft", "nvidia": "nvidia", "databricks": "databricks",
    "moonshotai": "moonshot", "moonshot": "moonshot", "zai-org": "zhipu", "thudm": "zhipu", "z-ai": "zhipu", "zhipu": "zhipu",
    "minimaxai": "minimax", "minimax": "minimax", "ai21labs": "ai21", "ai21": "ai21", "snowflake": "snowflake", "tiiuae": "tii", "tii": "tii",
}  # fmt: skip
"""Provider prefixes users write (Hugging Face organisations, OpenRouter): a prefix naming another provider is an error."""


def resolve_model(name: Any, option: str = "model") -> ModelEntry:
    """The model ``name`` designates: ``gpt-4o``, ``GPT-4o``, ``gpt-4o-2024-08-06``, ``openai/gpt-4o``,
    ``claude-sonnet-4-20250514``, ``mistral-large-latest``, ``meta-llama/Llama-3.3-70B-Instruct``."""
    text = _clean(name, option, "model")
    data = raw_table("models")
    key = name_key(text)
    for candidate, prefix in _model_candidates(key):
        ident = data["index"].get(candidate)
        if ident is None:
            continue
        found: ModelEntry = entry("models", ident)
        owner = _MODEL_PROVIDER_PREFIXES.get(prefix or "")
        if owner is not None and owner != found.provider:
            raise UnknownNameError(f"{option}: {text!r}: {found.id} is published by {found.provider}, not {owner}", code="unknown-model")
        return found
    if key in data["excluded"]:
        raise UnknownNameError(f"{option}: {text!r} is not in the data pack: {data['excluded'][key]}", code="unknown-model")
    hint = _closest(_model_candidates(key)[-1][0], data, lambda ident: ident)
    raise UnknownNameError(f"{option}: unknown model {text!r}{hint}", code="unknown-model")


def resolve_gpu(name: Any, option: str = "hardware") -> GpuEntry:
    """The GPU board ``name`` designates: ``a100``, ``A100-80GB``, ``a100-sxm4-80gb``, ``h100``, ``H100 SXM``,
    ``NVIDIA H100 80GB HBM3`` (as nvidia-smi writes it), ``mi300x``."""
    text = _clean(name, option, "GPU board")
    data = raw_table("gpus")
    key = name_key(text)
    for candidate in (key, _VENDOR.sub("", key)):
        ident = data["index"].get(candidate)
        if ident is not None:
            return entry("gpus", ident)
    hint = _closest(_VENDOR.sub("", key), data, lambda ident: ident)
    raise UnknownNameError(f"{option}: unknown GPU board {text!r}{hint}", code="unknown-gpu")


# ---------------------------------------------------------------------------------------------
# Listings (CLI ``regions``/``models``/``hardware``, API GET routes): filters, all entries validated.


def filter_key(value: str | None, option: str) -> str | None:
    """A listing's filter (``search``, ``provider``) in the form names are compared in; ``None`` when not given.

    Given, it must hold a letter or a digit and be at most :data:`MAX_NAME_CHARS` characters: an empty or blank
    filter, or one of punctuation only (``''``, ``' '``, ``'.*'``, ``'%'``), would silently keep every row.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{option}: must be text, got {type(value).__name__}", code="invalid-filter")
    shown = value if len(value) <= 40 else value[:40] + "..."
    if len(value) > MAX_NAME_CHARS:
        raise InvalidInputError(f"{option}: {shown!r} is too long; allowed: at most {MAX_NAME_CHARS} characters", code="invalid-filter")
    key = name_key(value)
    if not any(char.isalnum() for char in key):
        raise InvalidInputError(
            f"{option}: {shown!r} holds no letter or digit; allowed: part of a name or code (or leave it out to list all)", code="invalid-filter"
        )
    return key


def _matches(needle: str | None, *texts: Any) -> bool:
    """Whether the filter key ``needle`` (from :func:`filter_key`) is part of one of ``texts``; no filter keeps every row."""
    if needle is None:
        return True
    return any(needle in name_key(str(text)) for text in texts if text)


def list_regions(kind: str | None = None, provider: str | None = None, country: str | None = None, search: str | None = None) -> list[RegionEntry]:
    """Regions filtered by kind, cloud provider, country (any name or code of it) and a search string."""
    search = filter_key(search, "search")
    if provider is not None:
        provider = PROVIDER_PREFIXES.get(name_key(provider), name_key(provider))
        if provider not in CLOUD_PROVIDERS:
            raise InvalidInputError(f"provider: unknown cloud provider {provider!r}; allowed: {', '.join(CLOUD_PROVIDERS)}", code="invalid-provider")
    if kind is not None and kind not in ("country", "subdivision", "cloud", "world"):
        raise InvalidInputError(f"kind: {kind!r}; allowed: country, subdivision, cloud, world", code="invalid-kind")
    country_id = resolve_region(country, "country").id if country is not None else None
    rows = []
    for region in table("regions").entries.values():
        if kind is not None and region.kind != kind:
            continue
        if provider is not None and region.provider != provider:
            continue
        if country_id is not None and country_id not in (region.country, region.id):
            continue
        if _matches(search, region.id, region.name, region.location, *region.aliases):
            rows.append(region)
    return rows


def list_models(provider: str | None = None, search: str | None = None) -> list[ModelEntry]:
    """Models filtered by provider (``openai``, ``mistral``...) and a search string; an unknown provider is an error naming the known ones."""
    search = filter_key(search, "search")
    key = filter_key(provider, "provider")
    wanted = None if key is None else _MODEL_PROVIDER_PREFIXES.get(key, key)
    entries = table("models").entries.values()
    if wanted is not None:
        known = sorted({model.provider for model in entries})
        if wanted not in known:
            raise InvalidInputError(f"provider: unknown model provider {provider!r}; allowed: {', '.join(known)}", code="invalid-provider")
    return [
        model
        for model in entries
        if (wanted is None or model.provider == wanted) and _matches(search, model.id, model.name, *model.aliases)
    ]


def list_gpus(vendor: str | None = None, search: str | None = None) -> list[GpuEntry]:
    """GPU boards filtered by vendor (``nvidia``, ``amd``) and a search string."""
    search = filter_key(search, "search")
    wanted = filter_key(vendor, "vendor")
    return [gpu for gpu in table("gpus").entries.values() if (wanted is None or gpu.vendor == wanted) and _matches(search, gpu.id, gpu.name, *gpu.aliases)]
