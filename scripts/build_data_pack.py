"""Build the reference-data pack ``data/pack/`` from the raw source files of ``data/sources/``.

    python scripts/build_data_pack.py            # rewrite data/pack/
    python scripts/build_data_pack.py --check    # rebuild in memory, exit 1 if data/pack/ differs

Deterministic: the same source files give the same bytes (sorted keys, Python's shortest float
repr, one entry per line). Nothing is read from installed packages or the network: every file used
is a copy under ``data/sources/``, with its licence. A name, code or alias claimed by two entries
stops the build (``BuildError``); ``docs/data-pack.md`` explains every rule applied here.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from traitement.reference import name_key  # noqa: E402
from traitement.reference.tables import GpuTable, ModelTable, RegionTable, SourceTable  # noqa: E402

PACK_VERSION = "2026.12"
SOURCES_DIR = PROJECT / "data" / "sources"
PACK_DIR = PROJECT / "data" / "pack"
LB_PER_MWH_TO_G_PER_KWH = 0.45359237  # 1 lb = 453.59237 g (exact), 1 MWh = 1,000 kWh
DATACENTER_PRESET = {"aws": "aws", "gcp": "google", "azure": "microsoft"}
ECOLOGITS_VERSIONS = ("0.11.3", "0.9.3", "0.8.2")  # newest first: a name keeps the newest figures
NOT_TEXT_GENERATION = re.compile(r"(tts|transcribe|image|realtime|audio|prompt-guard)", re.IGNORECASE)
DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{4})$")  # 2024-08-06, 20250514, Cohere's 08-2024
SNAPSHOT_SUFFIX = re.compile(r"-(?:latest|\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{4}|\d{3,4})$")  # plus -latest, Mistral's -2411, OpenAI's -0613
PACKAGING_SUFFIX = re.compile(r"-(?:gguf|pytorch|keras|flax|cpp|sfp-cpp|tflite|quant-pytorch|onnx(?:-(?:cpu|cuda|directml|web))?|4bit|awq|int8|fp8)$")
"""Hugging Face repositories that package a model in another format or precision: aliases of that model."""
HF_ORG_PROVIDER = {
    "meta-llama": "meta", "google": "google", "microsoft": "microsoft", "mistralai": "mistral", "mistral-community": "mistral",
    "CohereForAI": "cohere", "databricks": "databricks", "openai": "openai",
}  # fmt: skip
ECOLOGITS_PROVIDER = {"mistralai": "mistral", "google_genai": "google", "openai": "openai", "anthropic": "anthropic", "cohere": "cohere"}
ROUND = 4  # decimals kept for derived figures (unit conversions, weighted sums)

SOURCES: list[dict[str, Any]] = yaml.safe_load((SOURCES_DIR / "sources.yaml").read_text(encoding="utf-8"))["sources"]
"""Every source: id, title, publisher, licence, year, url, files (data/sources/sources.yaml)."""


class BuildError(Exception):
    """A source file is inconsistent, or two entries claim the same name."""


# ---------------------------------------------------------------------------------------------
# Small helpers


def read_csv(relative: str, skip_lines: int = 0) -> list[dict[str, str]]:
    with open(SOURCES_DIR / relative, encoding="utf-8-sig", newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        return list(csv.DictReader(handle))


def read_json(relative: str) -> Any:
    with open(SOURCES_DIR / relative, encoding="utf-8") as handle:
        return json.load(handle)


def exact(value: float) -> dict[str, float]:
    return {"value": value, "min": value, "max": value}


def ranged(low: float, high: float) -> dict[str, float]:
    return {"value": (low + high) / 2, "min": low, "max": high}


def number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


class Index:
    """Names to canonical ids; a name claimed by two ids stops the build."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.keys: dict[str, str] = {}
        self.origin: dict[str, str] = {}

    def add(self, name: str, ident: str, origin: str) -> None:
        key = name_key(name)
        if not key:
            raise BuildError(f"{self.table}: empty name for {ident} ({origin})")
        held = self.keys.get(key)
        if held is not None and held != ident:
            raise BuildError(f"{self.table}: {name!r} (key {key!r}) is claimed by {held} ({self.origin[key]}) and by {ident} ({origin})")
        self.keys[key] = ident
        self.origin.setdefault(key, origin)

    def claimed(self, name: str) -> str | None:
        return self.keys.get(name_key(name))


# ---------------------------------------------------------------------------------------------
# Regions: countries, subdivisions, cloud regions, world


def ga_year(row: dict[str, str]) -> int | None:
    """The data year of a Green Algorithms row: 'data from 2020', 'Data from April 2022'..."""
    text = f"{row['source']} {row['comments']}"
    match = re.search(r"(?:[Dd]ata from|based on|using) (?:[A-Z][a-z]+ )?(\d{4})", text)
    return int(match.group(1)) if match else None


def build_regions(feeds: dict[str, int]) -> dict[str, Any]:
    iso1 = read_json("iso-codes/iso3166-1.json")["3166-1"]
    iso2 = {row["code"]: row for row in read_json("iso-codes/iso3166-2.json")["3166-2"]}
    alpha2_to_3 = {row["alpha_2"]: row["alpha_3"] for row in iso1}
    fixes = read_csv("curated/green_algorithms_fixes.csv")
    grid_fix = {row["key"]: row["value"] for row in fixes if row["table"] == "grid"}
    cloud_fix = {(row["key"], row["field"]): row["value"] for row in fixes if row["table"] == "cloud"}

    # -- grid candidates per place: (rank, year, value, source, note); Ember first, then the latest year
    candidates: dict[str, list[tuple[int, int, float, str, str]]] = defaultdict(list)
    for row in read_csv("curated/grid_intensity.csv"):
        candidates[row["code"]].append(
            (
                0,
                int(row["year"]),
                float(row["carbon_intensity_gco2eq_per_kwh"]),
                "ember-2024",
                f"Ember {row['year']} via Our World in Data (DESIGN.md section 5)",
            )
        )
    for code, row in read_json("codecarbon/global_energy_mix.json").items():
        if row.get("carbon_intensity") is not None:
            note = f"Our World in Data {row['year']} (life-cycle)"
            candidates[code].append((1, int(row["year"]), float(row["carbon_intensity"]), "owid-via-codecarbon", note))
    ga_rows = read_csv("green-algorithms/CI_aggregated.csv", skip_lines=1)
    for row in ga_rows:
        code = grid_fix.get(row["location"], row["location"])
        if not code:
            continue  # skipped with its reason in green_algorithms_fixes.csv
        if len(code) == 2:
            code = alpha2_to_3[code]
        elif "-" in code and code not in iso2:
            raise BuildError(
                f"green-algorithms/CI_aggregated.csv: {row['location']!r} is not an ISO 3166-2 code; add a row to curated/green_algorithms_fixes.csv"
            )
        year = ga_year(row)
        if year is None:
            raise BuildError(f"green-algorithms/CI_aggregated.csv: no data year for {row['location']!r}; add a row to curated/green_algorithms_fixes.csv")
        note = f"Green Algorithms CI_aggregated.csv: {row['source']}" + (f" ({row['comments']})" if row["comments"] else "")
        candidates[code].append((2, year, float(row["carbonIntensity"]), "green-algorithms-2025", note))
    us = read_json("codecarbon/usa_emissions.json")
    for state, row in us.items():
        if state.startswith("_") or state == "usa":
            continue
        value = round(row["emissions"] * LB_PER_MWH_TO_G_PER_KWH, ROUND)
        note = f"eGRID2023 {row['emissions']} lb CO2e/MWh x 0.45359237 (direct emissions, no upstream)"
        candidates[f"US-{row['regionCode']}"].append((1, 2023, value, "egrid-2023-via-codecarbon", note))
    factors = read_json("codecarbon/carbon_intensity_per_source.json")
    factor_of = {
        "coal": "coal",
        "petroleum": "petroleum",
        "naturalGas": "natural_gas",
        "nuclear": "nuclear",
        "hydro": "hydroelectricity",
        "wind": "wind",
        "solar": "solar",
        "biomass": "biomass",
    }
    canada_codes = {row["name"].casefold(): code for code, row in iso2.items() if code.startswith("CA-")}
    for province, mix in read_json("codecarbon/canada_energy_mix.json").items():
        total = mix["total"]
        value = round(sum(mix[kind] / total * factors[factor_of[kind]] for kind in factor_of), ROUND)
        unweighted = [kind for kind in mix if kind not in factor_of and kind != "total" and mix[kind]]
        note = "generation mix x life-cycle factor per source" + (f" ({', '.join(unweighted)} counted as 0)" if unweighted else "")
        candidates[canada_codes[province]].append((1, 2023, value, "canada-mix-via-codecarbon", note))
    china = read_json("codecarbon/china_provincial_emissions.json")
    for code, row in china["data"].items():
        note = f"MEE/NBS provincial factor {row['year']} (CO2 only, not CO2e)"
        candidates[code].append((1, int(row["year"]), float(row["emission_factor"]), "china-mee-2023-via-codecarbon", note))

    def grid_of(code: str) -> dict[str, Any]:
        options = candidates.get(code)
        if not options:
            return {
                "carbon_intensity_gco2eq_per_kwh": None,
                "carbon_year": None,
                "carbon_source": None,
                "carbon_note": "no source in the pack covers this place",
            }
        ember = [option for option in options if option[0] == 0]
        rank, year, value, source, note = ember[0] if ember else sorted(options, key=lambda option: (-option[1], option[0]))[0]
        others = len(options) - 1
        if others:
            note += f"; chosen over {others} other figure{'s' if others > 1 else ''} ({'Ember first' if rank == 0 else 'latest year'})"
        feeds[f"{source}|regions.carbon_intensity_gco2eq_per_kwh"] += 1
        return {"carbon_intensity_gco2eq_per_kwh": value, "carbon_year": year, "carbon_source": source, "carbon_note": note}

    # -- water per country
    curated_water = {row["code"]: row for row in read_csv("curated/offsite_water.csv")}
    world_water = curated_water["WLD"]
    mixes = {row["name"]: row for row in read_json("ecologits/electricity_mixes-0.11.3.json")["electricity_mixes"]}

    def water_of(code: str) -> dict[str, Any]:
        if code in curated_water:
            row = curated_water[code]
            feeds["wri-2020-water|regions.wue_offsite_l_per_kwh"] += 1
            return {
                "wue_offsite_l_per_kwh": float(row["wue_offsite_l_per_kwh"]),
                "water_year": int(row["year"]),
                "water_source": "wri-2020-water",
                "water_is_world_average": code == "WLD",
                "water_note": "WRI 2020 (DESIGN.md section 5)",
            }
        mix = mixes.get(code)
        if mix is not None and "electricity-mix-wue-world" not in (mix["warnings"] or []):
            feeds["ecologits-mixes|regions.wue_offsite_l_per_kwh"] += 1
            return {
                "wue_offsite_l_per_kwh": float(mix["wue"]),
                "water_year": 2020,
                "water_source": "ecologits-mixes",
                "water_is_world_average": False,
                "water_note": "EcoLogits national factor",
            }
        feeds["wri-2020-water|regions.wue_offsite_l_per_kwh (world average standing in)"] += 1
        return {
            "wue_offsite_l_per_kwh": float(world_water["wue_offsite_l_per_kwh"]),
            "water_year": int(world_water["year"]),
            "water_source": "wri-2020-water",
            "water_is_world_average": True,
            "water_note": "world average: no national figure",
        }

    entries: dict[str, dict[str, Any]] = {}
    index = Index("regions")
    declared: dict[str, dict[str, str]] = {}
    for row in read_csv("curated/region_aliases.csv"):
        held = declared.get(name_key(row["alias"]))
        if held is not None and held["code"] != row["code"]:
            raise BuildError(f"curated/region_aliases.csv: {row['alias']!r} names both {held['code']} and {row['code']}")
        declared[name_key(row["alias"])] = row

    def claim(ident: str, names: list[str], origin: str) -> list[str]:
        """Index the names of one entry; a name region_aliases.csv gives to another entry is left to that one."""
        kept = []
        for name in dict.fromkeys(names):
            owner = declared.get(name_key(name))
            if owner is not None and owner["code"] != ident:
                continue  # region_aliases.csv decides this name (its note says why)
            index.add(name, ident, origin)
            kept.append(name)
        return kept

    for row in iso1:
        code = row["alpha_3"]
        names = [code, row["alpha_2"], row["name"]] + [row[field] for field in ("official_name", "common_name") if field in row]
        display = row.get("common_name", row["name"])
        entry = {"id": code, "kind": "country", "name": display, "country": code, "alpha_2": row["alpha_2"], **grid_of(code), **water_of(code)}
        entry["aliases"] = sorted(name for name in claim(code, names, "iso-codes") if name != code)
        entries[code] = entry
    world = {"id": "WLD", "kind": "world", "name": "World", "country": None, **grid_of("WLD"), **water_of("WLD")}
    world["aliases"] = claim("WLD", ["WLD"], "world")[1:]
    entries["WLD"] = world

    subdivision_names = {code: row["description"] for code, row in china["data"].items()}
    for code in sorted(code for code in candidates if "-" in code):
        if code not in iso2:
            raise BuildError(f"subdivision {code!r} is not an ISO 3166-2 code")
        country = alpha2_to_3[code[:2]]
        iso_name = iso2[code]["name"]
        display = subdivision_names.get(code, iso_name)
        national = entries[country]
        water = {field: national[field] for field in ("wue_offsite_l_per_kwh", "water_year", "water_source", "water_is_world_average")}
        water["water_note"] = f"national figure of {country}"
        feeds[f"{national['water_source']}|regions.wue_offsite_l_per_kwh"] += 1
        entry = {"id": code, "kind": "subdivision", "name": display, "country": country, **grid_of(code), **water}
        entry["aliases"] = sorted(name for name in claim(code, [code, display, iso_name], "iso-codes") if name != code)
        entries[code] = entry

    # -- cloud regions
    gcp_years: dict[str, tuple[int, float, float]] = {}
    for year in (2022, 2023, 2024):  # later years overwrite: the newest figure per region
        for row in read_csv(f"gcp-region-carbon-info/{year}.csv"):
            gcp_years[row["Google Cloud Region"]] = (year, float(row["Grid carbon intensity (gCO2eq / kWh)"]), float(row["Google CFE"]))
    cloud_rows = read_csv("curated/cloud_regions.csv")
    ga_cloud = read_csv("green-algorithms/cloudProviders_datacenters.csv", skip_lines=1)
    ga_gcp = {row["Name"]: row["location"] for row in ga_cloud if row["provider"] == "gcp"}
    for row in ga_cloud:
        if row["provider"] != "azure":
            continue
        name = row["Name"]
        region = cloud_fix.get((name, "region")) or re.sub(r"\s*\(.*\)$", "", name).replace(" ", "").lower()
        location = cloud_fix.get((name, "location"), row["location"])
        cloud_rows.append(
            {
                "provider": "azure",
                "region": region,
                "location": location,
                "city": row["location_freeForm"].strip() or name,
                "source": f"Green Algorithms cloudProviders_datacenters.csv ({name})",
                "display": name,
            }
        )

    def location_id(code: str) -> str:
        code = grid_fix.get(code) or code  # Green Algorithms' CN-HK is Hong Kong (HKG)
        if len(code) == 2:
            return alpha2_to_3[code]
        return code

    for row in cloud_rows:
        provider, region = row["provider"], row["region"]
        ident = f"{provider}:{region}"
        location = location_id(row["location"])
        if location not in entries:
            raise BuildError(f"cloud region {ident}: location {row['location']!r} is neither a country nor a subdivision of the pack")
        if provider == "gcp" and region in ga_gcp and location_id(ga_gcp[region]) != location:
            raise BuildError(f"cloud region {ident}: curated location {location} differs from Green Algorithms' {ga_gcp[region]}")
        place = entries[location]
        if place["carbon_intensity_gco2eq_per_kwh"] is None and place["kind"] == "subdivision":
            place = entries[place["country"]]
        grid = {field: place[field] for field in ("carbon_intensity_gco2eq_per_kwh", "carbon_year", "carbon_source")}
        grid["carbon_note"] = f"grid of {place['id']} ({place['name']})" if place["carbon_source"] else place["carbon_note"]
        cfe = None
        if provider == "gcp" and region in gcp_years:
            year, value, cfe = gcp_years[region]
            grid = {
                "carbon_intensity_gco2eq_per_kwh": value,
                "carbon_year": year,
                "carbon_source": "gcp-region-carbon-info",
                "carbon_note": f"Google's figure for the region ({year}, location-based)",
            }
        feeds[f"{grid['carbon_source']}|regions.carbon_intensity_gco2eq_per_kwh (cloud)"] += 1
        country_entry = entries[place["country"] or location]
        water = {field: country_entry[field] for field in ("wue_offsite_l_per_kwh", "water_year", "water_source", "water_is_world_average")}
        water["water_note"] = f"national figure of {country_entry['id']}"
        source_id = "green-algorithms-cloud-2025" if row["source"].startswith("Green Algorithms") else "curated-cloud-regions"
        feeds[f"{source_id}|regions (cloud region locations)"] += 1
        entry = {
            "id": ident, "kind": "cloud", "name": row["city"], "country": entries[location]["country"], "provider": provider, "region": region,
            "location": location, "datacenter": DATACENTER_PRESET[provider], **grid, **water, "google_cfe": cfe,
        }  # fmt: skip
        names = [ident] + ([f"{provider}:{row['display']}"] if row.get("display") else [])
        entry["aliases"] = sorted(name for name in claim(ident, names, source_id) if name != ident)
        if ident in entries:
            raise BuildError(f"cloud region {ident} listed twice")
        entries[ident] = entry

    # curated aliases (region_aliases.csv): every target must exist
    for row in declared.values():
        if row["code"] not in entries:
            raise BuildError(f"curated/region_aliases.csv: {row['alias']!r} names unknown region {row['code']!r}")
        index.add(row["alias"], row["code"], "curated/region_aliases.csv")
        if row["alias"] not in entries[row["code"]]["aliases"]:
            entries[row["code"]]["aliases"] = sorted([*entries[row["code"]]["aliases"], row["alias"]])

    # bare cloud region names (us-east-1): indexed where one provider only has them and nothing else claims them
    bare: dict[str, list[str]] = defaultdict(list)
    for ident, entry in entries.items():
        if entry["kind"] == "cloud":
            bare[name_key(entry["region"])].append(ident)
    ambiguous = {}
    for key, idents in sorted(bare.items()):
        if index.keys.get(key) is not None:
            raise BuildError(f"regions: the bare cloud region {key!r} is also the name of {index.keys[key]}")
        if len(idents) == 1:
            index.add(key, idents[0], "bare cloud region name")
        else:
            ambiguous[key] = sorted(idents)
    return {"table": "regions", "version": PACK_VERSION, "entries": entries, "index": index.keys, "ambiguous": ambiguous}


# ---------------------------------------------------------------------------------------------
# Models


def ecologits_params(model: dict[str, Any]) -> tuple[str, dict[str, float], dict[str, float], bool]:
    arch = model["architecture"]
    params = arch["parameters"]

    def value(item: Any) -> dict[str, float]:
        return ranged(float(item["min"]), float(item["max"])) if isinstance(item, dict) else exact(float(item))

    if arch["type"] == "dense":
        total = active = value(params)
    else:
        total, active = value(params["total"]), value(params["active"])
    spans = [params] if arch["type"] == "dense" else [params["total"], params["active"]]
    estimate = "model-arch-not-released" in (model["warnings"] or []) or any(isinstance(item, dict) for item in spans)
    return arch["type"], total, active, estimate


def ecologits_provider(model: dict[str, Any]) -> str:
    if model["provider"] == "huggingface_hub":
        return HF_ORG_PROVIDER[model["name"].split("/")[0]]
    return ECOLOGITS_PROVIDER[model["provider"]]


def build_models(feeds: dict[str, int]) -> dict[str, Any]:
    curated = yaml.safe_load((SOURCES_DIR / "curated" / "models.yaml").read_text(encoding="utf-8"))
    skipped = {name: group["reason"] for group in curated["skip"].values() for name in group["names"]}
    replaced: dict[str, str] = {}
    entries: dict[str, dict[str, Any]] = {}
    index = Index("models")
    for item in curated["models"]:
        ident = item["id"]
        if ident != ident.lower() or ident in entries:
            raise BuildError(f"curated/models.yaml: id {ident!r} must be lowercase and listed once")
        for name in item.get("replaces", []):
            if name in replaced:
                raise BuildError(f"curated/models.yaml: {name!r} replaced by {replaced[name]} and {ident}")
            replaced[name] = ident

        def figure(raw: Any) -> dict[str, float]:
            return {"value": float(raw["value"]), "min": float(raw["min"]), "max": float(raw["max"])} if isinstance(raw, dict) else exact(float(raw))

        aliases = list(dict.fromkeys([*item.get("aliases", []), *item.get("replaces", [])]))
        aliases += [name.split("/")[-1] for name in item.get("replaces", []) if "/" in name]
        entries[ident] = {
            "id": ident, "name": ident, "provider": item["provider"], "architecture": item["architecture"],
            "total_params_b": figure(item["total_params_b"]), "active_params_b": figure(item["active_params_b"]),
            "estimate": bool(item.get("estimate", False)), "precision": item.get("precision"), "multimodal": False,
            "aliases": aliases, "source": "curated-models", "source_note": item["source"], "urls": [item["url"]], "year": int(item["year"]),
        }  # fmt: skip
        feeds["curated-models|models"] += 1

    # EcoLogits: newest version first, a name keeps its newest figures
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for version in ECOLOGITS_VERSIONS:
        for model in read_json(f"ecologits/models-{version}.json")["models"]:
            seen.setdefault(model["name"], (version, model))
    excluded: dict[str, str] = {}
    kept: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, (version, model) in sorted(seen.items()):
        if name in replaced:
            continue
        if name in skipped:
            excluded[name_key(name)] = skipped[name]
            continue
        if NOT_TEXT_GENERATION.search(name):
            excluded[name_key(name)] = "not a text-generation model (speech, transcription, image or realtime audio): left out of the pack"
            continue
        kept[name] = (version, model)
    for name in replaced:
        if name not in seen:
            raise BuildError(f"curated/models.yaml: replaces {name!r}, which no EcoLogits version lists")

    # packaging variants of a Hugging Face model (GGUF, ONNX, 4-bit...) become aliases of the model they package
    original_name = {name.lower(): name for name in seen}
    packaged: dict[str, list[str]] = defaultdict(list)  # kept name or curated id -> its variants
    for name in sorted(kept):
        base = name.lower()
        while (match := PACKAGING_SUFFIX.search(base)) is not None:
            base = base[: match.start()]
        if "/" not in name or base == name.lower():
            continue
        original = original_name.get(base, "")
        target = original if original in kept else replaced.get(original)
        if target is not None:  # else no model of that name: the variant stays a model of its own
            packaged[target].append(name)
            del kept[name]
    for target, names in packaged.items():
        if target in entries:  # a curated model: the variants are its aliases
            entries[target]["aliases"] += names + [name.split("/", 1)[1] for name in names]
    # group dated snapshots and -latest names with the base model when their figures are equal
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, (_, model) in kept.items():
        base = SNAPSHOT_SUFFIX.sub("", name.lower())
        groups[(base, json.dumps(model["architecture"], sort_keys=True))].append(name)
    curated_keys = {name_key(name) for item in entries.values() for name in [item["id"], *item["aliases"]]}
    by_base: dict[str, int] = defaultdict(int)
    for base, _ in groups:
        by_base[base] += 1
    for (base, _), members in sorted(groups.items()):
        members.sort()
        exact_member = next((member for member in members if member.lower() == base), None)
        dated = any(DATE_SUFFIX.search(member) for member in members)
        if exact_member is not None:
            ident = base
        elif by_base[base] == 1 and name_key(base) not in curated_keys and (len(members) > 1 or dated):
            ident = base  # snapshots of one model: claude-sonnet-4-20250514 is claude-sonnet-4
        else:
            ident = members[0].lower()  # a lone -latest or -2312 name keeps its own name
        version, model = kept[exact_member or members[0]]
        arch, total, active, estimate = ecologits_params(model)
        aliases = [member for member in members if member.lower() != ident]
        for member in members:
            aliases += packaged.get(member, [])
        for alias in list(aliases) + members:
            if "/" in alias:
                aliases.append(alias.split("/", 1)[1])
        if ident in entries:
            raise BuildError(f"models: {ident!r} is both a curated model and an EcoLogits group ({', '.join(members)})")
        source = f"ecologits-models-{version}"
        entries[ident] = {
            "id": ident, "name": exact_member or members[0], "provider": ecologits_provider(model), "architecture": arch,
            "total_params_b": total, "active_params_b": active, "estimate": estimate, "precision": None,
            "multimodal": "model-arch-multimodal" in (model["warnings"] or []),
            "aliases": list(dict.fromkeys(alias for alias in aliases if alias.lower() != ident)),
            "source": source, "source_note": f"EcoLogits {version} model repository" + (" (range: size not published by the provider)" if estimate else ""),
            "urls": list(model["sources"]), "year": next(item["year"] for item in SOURCES if item["id"] == source),
        }  # fmt: skip
        feeds[f"{source}|models"] += 1
    for ident, item in sorted(entries.items()):
        index.add(ident, ident, item["source"])
        for alias in item["aliases"]:
            index.add(alias, ident, item["source"])
        item["aliases"] = sorted(dict.fromkeys(item["aliases"]))
    for key in list(excluded):
        if key in index.keys:
            del excluded[key]  # an excluded EcoLogits name that another entry claims as an alias
    return {"table": "models", "version": PACK_VERSION, "entries": dict(sorted(entries.items())), "index": index.keys, "excluded": excluded}


# ---------------------------------------------------------------------------------------------
# GPU boards

GREEN_ALGORITHMS_GPU = {
    "NVIDIA A100 40GB PCIe": "a100-pcie-40gb",
    "NVIDIA A100 80GB PCIe": "a100-pcie-80gb",
    "NVIDIA Tesla T4": "t4",
    "NVIDIA Tesla V100": "v100-sxm2-32gb",
}
"""Green Algorithms' TDP_gpu.csv rows that name a board of the pack: their power must agree (a cross-check)."""


def build_gpus(feeds: dict[str, int]) -> dict[str, Any]:
    embodied = {row["gpu"]: row for row in read_csv("curated/gpu_embodied.csv")}
    entries: dict[str, dict[str, Any]] = {}
    index = Index("gpus")
    for row in read_csv("curated/gpus.csv"):
        ident = row["id"]
        carbon = embodied.pop(ident, None)
        aliases = [alias for alias in row["aliases"].split(";") if alias]
        entries[ident] = {
            **{field: row[field] for field in ("id", "name", "vendor", "form_factor", "source", "url", "note")},
            "year": int(row["year"]),
            **{field: float(row[field]) for field in ("power_w", "memory_gb", "memory_bandwidth_tb_per_s", "fp16_tflop_per_s")},
            **{field: number(row[field]) for field in ("bf16_tflop_per_s", "fp8_tflop_per_s")},
            "embodied_kgco2eq": {key: float(carbon[f"{key}_kgco2eq"]) for key in ("value", "min", "max")} if carbon else None,
            "embodied_basis": carbon["basis"] if carbon else None,
            "embodied_source": carbon["source"] if carbon else None,
            "embodied_year": int(carbon["year"]) if carbon else None,
            "aliases": sorted(dict.fromkeys(aliases)),
        }
        feeds["curated-gpus|gpus"] += 1
        for name in [ident, row["name"], *aliases]:
            index.add(name, ident, "curated/gpus.csv")
    if embodied:
        raise BuildError(f"curated/gpu_embodied.csv: unknown boards {sorted(embodied)}")
    for row in read_csv("green-algorithms/TDP_gpu.csv", skip_lines=1):
        board = GREEN_ALGORITHMS_GPU.get(row["model"])
        if board is not None and float(row["TDP"]) != entries[board]["power_w"]:
            raise BuildError(f"gpus: {board} power {entries[board]['power_w']} W differs from Green Algorithms' {row['TDP']} W for {row['model']}")
    return {"table": "gpus", "version": PACK_VERSION, "entries": entries, "index": index.keys}


# ---------------------------------------------------------------------------------------------
# Sources, manifest, writing


def build_sources(feeds: dict[str, int]) -> dict[str, Any]:
    entries = {}
    for source in SOURCES:
        fed = sorted(f"{what}: {count}" for key, count in feeds.items() for sid, what in [key.split("|", 1)] if sid == source["id"])
        if source["id"] == "iso-codes":
            fed.append("regions: names and codes of every country and subdivision")
        if source["id"] == "green-algorithms-2025" and not fed:
            fed.append("regions.carbon_intensity_gco2eq_per_kwh: none chosen (older than the other sources)")
        entries[source["id"]] = {**source, "feeds": fed}
    used = {key.split("|", 1)[0] for key in feeds}
    unknown = used - set(entries)
    if unknown:
        raise BuildError(f"entries cite unknown sources {sorted(unknown)}")
    return {"table": "sources", "version": PACK_VERSION, "entries": entries}


def dumps(document: dict[str, Any]) -> str:
    """JSON with sorted keys, one entry per line in the big mappings: small diffs, the same bytes every time."""
    lines = ["{"]
    keys = sorted(document)
    for position, key in enumerate(keys):
        value = document[key]
        comma = "," if position < len(keys) - 1 else ""
        if isinstance(value, dict) and len(value) > 8:
            lines.append(f"{json.dumps(key)}:{{")
            items = sorted(value.items())
            for number_, (item_key, item) in enumerate(items):
                tail = "," if number_ < len(items) - 1 else ""
                lines.append(
                    json.dumps(item_key, ensure_ascii=False)
                    + ":"
                    + json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                    + tail
                )
            lines.append("}" + comma)
        else:
            lines.append(json.dumps(key) + ":" + json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + comma)
    lines.append("}")
    return "\n".join(lines) + "\n"


def build() -> dict[str, str]:
    """Every file of the pack, by name, as text."""
    feeds: dict[str, int] = defaultdict(int)
    regions = build_regions(feeds)
    models = build_models(feeds)
    gpus = build_gpus(feeds)
    sources = build_sources(feeds)
    for schema, document in ((RegionTable, regions), (ModelTable, models), (GpuTable, gpus), (SourceTable, sources)):
        schema.model_validate(document)  # the loader's schemas: a bad entry stops the build
    for document in (regions, models, gpus):
        cited = {entry.get("carbon_source") or entry.get("source") for entry in document["entries"].values()} - {None}
        missing = {source for source in cited if source not in sources["entries"] and not source.startswith(("NVIDIA", "AMD", "AWS"))}
        if document["table"] != "gpus" and missing:
            raise BuildError(f"{document['table']}: entries cite unknown sources {sorted(missing)}")
    files = {f"{doc['table']}.json": dumps(doc) for doc in (regions, models, gpus, sources)}
    source_files = {}
    for path in sorted(SOURCES_DIR.rglob("*")):
        if path.is_file() and path.suffix != ".md":  # the data, not its description
            source_files[path.relative_to(SOURCES_DIR).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    kinds: dict[str, int] = defaultdict(int)
    for entry in regions["entries"].values():
        if entry["carbon_intensity_gco2eq_per_kwh"] is not None:
            kinds[entry["kind"]] += 1
    counts = {
        "countries": sum(1 for entry in regions["entries"].values() if entry["kind"] == "country"),
        "countries_with_grid": kinds["country"], "subdivisions_with_grid": kinds["subdivision"],
        "cloud_regions": sum(1 for entry in regions["entries"].values() if entry["kind"] == "cloud"),
        "models": len(models["entries"]), "gpus": len(gpus["entries"]), "sources": len(sources["entries"]),
    }  # fmt: skip
    for provider in ("aws", "gcp", "azure"):
        counts[f"cloud_regions_{provider}"] = sum(1 for entry in regions["entries"].values() if entry.get("provider") == provider)
    tables = {
        name[:-5]: {"file": name, "entries": len(json.loads(text)["entries"]), "sha256": hashlib.sha256(text.encode()).hexdigest()}
        for name, text in files.items()
    }
    manifest = {"version": PACK_VERSION, "tables": tables, "source_files": source_files, "counts": counts}
    files["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rebuild in memory and compare with data/pack/ (exit 1 if different)")
    parser.add_argument("--out", type=Path, default=PACK_DIR, help="output folder (default data/pack)")
    args = parser.parse_args(argv)
    try:
        files = build()
    except BuildError as error:
        print(f"build_data_pack: {error}", file=sys.stderr)
        return 1
    if args.check:
        stale = [name for name, text in files.items() if not (args.out / name).exists() or (args.out / name).read_text(encoding="utf-8") != text]
        extra = sorted(path.name for path in args.out.glob("*.json") if path.name not in files)
        if stale or extra:
            print(f"build_data_pack: {args.out} differs from a rebuild: {', '.join(stale + extra)}", file=sys.stderr)
            return 1
        print(f"data pack {PACK_VERSION}: {args.out} is up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
    counts = json.loads(files["manifest.json"])["counts"]
    print(f"data pack {PACK_VERSION} written to {args.out}: " + ", ".join(f"{key} {value}" for key, value in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
