"""The reference-data pack (data/pack/): rebuild, provenance, counts, pinned figures, name resolution."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

from traitement import reference as datapack
from traitement.errors import CalculatorError, InvalidInputError, UnknownNameError

PROJECT = Path(__file__).resolve().parent.parent
US_STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC"
).split()
CANADA = "AB BC MB NB NL NS NT NU ON PE QC SK YT".split()
RENTED_GPUS = {  # the list -> the pack's id
    "A10G": "a10g", "L4": "l4", "L40S": "l40s", "T4": "t4", "V100": "v100-sxm2-32gb",
    "A100 40GB SXM": "a100-sxm4-40gb", "A100 40GB PCIe": "a100-pcie-40gb", "A100 80GB SXM": "a100-sxm4-80gb", "A100 80GB PCIe": "a100-pcie-80gb",
    "H100 SXM": "h100-sxm", "H100 PCIe": "h100-pcie", "H200": "h200", "B200": "b200", "MI250X": "mi250x", "MI300X": "mi300x", "MI325X": "mi325x",
}  # fmt: skip


def load_builder():
    spec = importlib.util.spec_from_file_location("build_data_pack", PROJECT / "scripts" / "build_data_pack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builder():
    return load_builder()


@pytest.fixture(scope="module")
def regions():
    return datapack.table("regions").entries


@pytest.fixture(scope="module")
def models():
    return datapack.table("models").entries


@pytest.fixture(scope="module")
def gpus():
    return datapack.table("gpus").entries


# --- rebuild and provenance --------------------------------------------------------------------


def test_rebuild_reproduces_the_committed_pack_byte_for_byte(builder):
    files = builder.build()
    committed = sorted(path.name for path in (PROJECT / "data" / "pack").iterdir())
    assert committed == sorted(files)
    for name, text in files.items():
        assert (PROJECT / "data" / "pack" / name).read_bytes() == text.encode("utf-8"), name


def test_manifest_carries_the_version_and_the_hash_of_every_source_file():
    manifest = datapack.manifest()
    assert manifest.version == datapack.pack_version() == "2026.12"
    listed = {
        path.relative_to(PROJECT / "data" / "sources").as_posix()
        for path in (PROJECT / "data" / "sources").rglob("*")
        if path.is_file() and path.suffix != ".md"
    }
    assert set(manifest.source_files) == listed
    assert set(manifest.tables) == {"regions", "models", "gpus", "sources"}


def test_every_figure_has_a_source_and_a_year(regions, models, gpus):
    known = {source.id for source in datapack.sources()}
    for region in regions.values():
        if region.carbon_intensity_gco2eq_per_kwh is not None:
            assert region.carbon_source in known and region.carbon_year and 1990 < region.carbon_year <= 2026, region.id
        else:
            assert region.carbon_source is None and region.carbon_year is None, region.id
        assert region.water_source in known and 2000 < region.water_year <= 2026, region.id
    for model in models.values():
        assert model.source in known and 2015 < model.year <= 2026 and model.source_note, model.id
    for gpu in gpus.values():
        assert gpu.source and gpu.url.startswith("https://") and 2015 < gpu.year <= 2026, gpu.id
        if gpu.embodied_kgco2eq is not None:
            assert gpu.embodied_source and gpu.embodied_year and gpu.embodied_basis, gpu.id


def test_every_source_has_a_licence_a_year_and_feeds_something():
    for source in datapack.sources():
        assert source.licence and 2019 < source.year <= 2026 and source.feeds, source.id
        for file in source.files:
            assert (PROJECT / "data" / "sources" / file).is_file(), file
        folder = (PROJECT / "data" / "sources" / source.files[0]).parent
        assert (folder / "LICENSE").is_file() and (folder / "README.md").is_file(), folder


def test_entries_constructed_from_the_trusted_pack_equal_validated_ones(regions, models, gpus):
    for name, entries in (("regions", regions), ("models", models), ("gpus", gpus)):
        for ident, validated in entries.items():
            assert datapack.entry(name, ident) == validated, ident


# --- counts ------------------------------------------------------------------------------------


def test_counts(regions, models, gpus):
    countries = [region for region in regions.values() if region.kind == "country" and region.carbon_intensity_gco2eq_per_kwh is not None]
    assert len(countries) >= 200
    for state in US_STATES:
        assert regions[f"US-{state}"].carbon_intensity_gco2eq_per_kwh is not None, state
    for province in CANADA:
        assert regions[f"CA-{province}"].carbon_intensity_gco2eq_per_kwh is not None, province
    clouds = [region for region in regions.values() if region.kind == "cloud"]
    assert len(clouds) >= 100
    assert {region.provider for region in clouds} == {"aws", "gcp", "azure"}
    assert min(sum(region.provider == provider for region in clouds) for provider in ("aws", "gcp", "azure")) >= 30
    assert len(models) >= 300
    providers = {model.provider for model in models.values()}
    assert {"openai", "anthropic", "google", "mistral", "meta", "alibaba", "deepseek", "cohere", "xai", "microsoft", "nvidia"} <= providers
    assert set(RENTED_GPUS.values()) <= set(gpus)


# --- pinned figures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "intensity", "year", "source"),
    [
        ("France", 44.2, 2024, "ember-2024"),  # Ember 2024 via Our World in Data (DESIGN.md section 5)
        ("USA", 383.6, 2024, "ember-2024"),
        ("Germany", 342.1, 2024, "ember-2024"),
        ("Iceland", 28.3, 2023, "ember-2024"),  # Ember has no 2024 figure for Iceland
        ("world", 472.9, 2024, "ember-2024"),
        ("ESP", 174.05, 2023, "owid-via-codecarbon"),  # Our World in Data 2023 (CodeCarbon's table)
        ("brazil", 98.348, 2023, "owid-via-codecarbon"),
        ("US-CA", 394.769 * 0.45359237, 2023, "egrid-2023-via-codecarbon"),  # eGRID2023 394.769 lb/MWh
        # Quebec: (0.2 x 743 + 0.3 x 816 + 0.7 x 230 + 0.01 x 48 + 6.7 x 26 + 92.1 x 26) / 100.01
        ("CA-QC", (0.2 * 743 + 0.3 * 816 + 0.7 * 230 + 0.01 * 48 + 6.7 * 26 + 92.1 * 26) / 100.01, 2023, "canada-mix-via-codecarbon"),
        ("CN-BJ", 555.4, 2023, "china-mee-2023-via-codecarbon"),
        ("AU-NSW", 870.0, 2019, "green-algorithms-2025"),
        ("gcp:europe-west9", 16.30, 2024, "gcp-region-carbon-info"),  # Google's own 2024 figure for Paris
        ("aws:eu-west-3", 44.2, 2024, "ember-2024"),  # AWS Paris: the French grid
        ("azure:westeurope", 252.7, 2024, "ember-2024"),  # the Netherlands
        ("aws:us-east-1", 539.599 * 0.45359237, 2023, "egrid-2023-via-codecarbon"),  # Virginia
    ],
)
def test_pinned_grid_figures(name, intensity, year, source):
    region = datapack.resolve_region(name)
    assert region.carbon_intensity_gco2eq_per_kwh == pytest.approx(intensity, rel=1e-4 if source.endswith("codecarbon") else 1e-9)
    assert (region.carbon_year, region.carbon_source) == (year, source)


@pytest.mark.parametrize(
    ("name", "water", "world_average"),
    [
        ("FRA", 3.67, False),
        ("USA", 3.13, False),
        ("DEU", 1.95, False),
        ("WLD", 3.91, True),
        ("SWE", 6.0315, False),
        ("Monaco", 3.91, True),
        ("US-TX", 3.13, False),
    ],
)
def test_pinned_water_and_the_world_average_flag(name, water, world_average):
    region = datapack.resolve_region(name)
    assert region.wue_offsite_l_per_kwh == pytest.approx(water, rel=1e-9)
    assert region.water_is_world_average is world_average


# The 15 regions and 17 models config/ held before the data pack, with their figures (pinned tests used them).
CONFIG_REGIONS = {
    "france": ("FRA", 44.2, 3.67), "germany": ("DEU", 342.1, 1.95), "iceland": ("ISL", 28.3, 6.1409), "usa": ("USA", 383.6, 3.13),
    "sweden": ("SWE", 35.9, 6.0315), "uk": ("GBR", 215.8, 2.329), "china": ("CHN", 557.5, 6.0065), "india": ("IND", 709.0, 3.4368),
    "poland": ("POL", 615.0, 2.5135), "norway": ("NOR", 30.8, 6.6633), "ireland": ("IRL", 279.8, 1.4769), "netherlands": ("NLD", 252.7, 3.433),
    "japan": ("JPN", 483.7, 2.3063), "canada": ("CAN", 185.0, 8.1662), "world": ("WLD", 472.9, 3.91),
}  # fmt: skip
"""name -> (id, gCO2e/kWh as config.yaml had it, water: config's 3.91 world average replaced by EcoLogits' national figure where one exists)."""


@pytest.mark.parametrize("name", sorted(CONFIG_REGIONS))
def test_the_config_regions_keep_their_intensities(name):
    ident, intensity, water = CONFIG_REGIONS[name]
    entry = datapack.resolve_region(name)
    assert entry.id == ident
    assert entry.carbon_intensity_gco2eq_per_kwh == pytest.approx(intensity, rel=1e-9)
    assert entry.wue_offsite_l_per_kwh == pytest.approx(water, rel=1e-9)


def test_the_config_gpus_keep_their_datasheet_figures():
    config = yaml.safe_load((PROJECT / "config" / "config_model.yaml").read_text(encoding="utf-8"))
    for name, board in config["gpus"].items():
        entry = datapack.resolve_gpu(name)
        assert entry.power_w == board["power_w"], name
        assert entry.memory_gb == board["memory_gb"], name
        assert entry.memory_bandwidth_tb_per_s == board["memory_bandwidth_tb_per_s"], name
        assert (entry.bf16_tflop_per_s or entry.fp16_tflop_per_s) == board["bf16_tflop_per_s"], name  # T4, V100: fp16 (no bf16)
        embodied = board["embodied_kgco2eq"]
        assert entry.embodied_kgco2eq is not None
        assert (entry.embodied_kgco2eq.value, entry.embodied_kgco2eq.min, entry.embodied_kgco2eq.max) == (
            embodied["value"],
            embodied["min"],
            embodied["max"],
        ), name


CONFIG_MODELS = {  # name: (aliases, total_params_b, active_params_b, precision) as config/models.yaml had them
    "mistral-large-2": (["mistral-large-2407", "mistral-large-2411", "mistral-large"], 123, 123, "bf16"),
    "mistral-medium": (["mistral-medium-3", "mistral-medium-2505", "mistral-medium-latest"], 125, 112.5, None),
    "mistral-small": (["mistral-small-3", "mistral-small-2501", "mistral-small-3.1", "mistral-small-2503"], 24, 24, "bf16"),  # -latest: see docs
    "ministral-8b": (["ministral", "ministral-8b-2410", "ministral-8b-latest"], 8.02, 8.02, "bf16"),
    "mixtral-8x7b": (["open-mixtral-8x7b", "mixtral-8x7b-instruct"], 46.7, 12.9, "bf16"),
    "mixtral-8x22b": (["open-mixtral-8x22b", "mixtral-8x22b-instruct"], 140.6, 39.1, "bf16"),
    "codestral": (["codestral-22b", "codestral-2405", "codestral-latest"], 22.2, 22.2, "bf16"),
    "llama-3.1-8b": (["llama3.1-8b", "llama-3.1-8b-instruct", "meta-llama-3.1-8b"], 8.03, 8.03, "bf16"),
    "llama-3.1-70b": (["llama3.1-70b", "llama-3.1-70b-instruct", "meta-llama-3.1-70b"], 70.6, 70.6, "bf16"),
    "llama-3.1-405b": (["llama3.1-405b", "llama-3.1-405b-instruct", "meta-llama-3.1-405b"], 405.9, 405.9, "bf16"),
    "qwen3-8b": ([], 8.2, 8.2, "bf16"), "qwen3-32b": ([], 32.8, 32.8, "bf16"), "qwen3-30b-a3b": ([], 30.5, 3.3, "bf16"),
    "qwen3-235b-a22b": ([], 235, 22, "bf16"), "gpt-oss-20b": ([], 21, 3.6, "mxfp4"), "gpt-oss-120b": ([], 117, 5.1, "mxfp4"),
    "deepseek-v3": (["deepseek-v3-0324"], 671, 37, "fp8"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CONFIG_MODELS))
def test_the_config_models_keep_their_sizes(name):
    aliases, total, active, precision = CONFIG_MODELS[name]
    for alias in [name, *aliases]:
        entry = datapack.resolve_model(alias)
        assert entry.id == name, alias
        assert (entry.total_params_b.value, entry.active_params_b.value, entry.precision) == (pytest.approx(total), pytest.approx(active), precision)


def test_latest_names_follow_the_newest_source():
    assert datapack.resolve_model("mistral-small-latest").id == "mistral-small-4"  # was Mistral Small 3 in config/models.yaml
    assert datapack.resolve_model("mistral-large-latest").id == "mistral-large-3"


def test_gpu_datasheet_figures():
    h100 = datapack.resolve_gpu("H100 SXM")
    assert (h100.power_w, h100.memory_gb, h100.memory_bandwidth_tb_per_s, h100.bf16_tflop_per_s, h100.fp8_tflop_per_s) == (700, 80, 3.35, 989, 1979)
    mi325x = datapack.resolve_gpu("mi325x")
    assert (mi325x.power_w, mi325x.memory_gb, mi325x.memory_bandwidth_tb_per_s, mi325x.fp8_tflop_per_s) == (1000, 256, 6.0, 2614.9)
    t4 = datapack.resolve_gpu("t4")
    assert (t4.bf16_tflop_per_s, t4.fp16_tflop_per_s, t4.fp8_tflop_per_s) == (None, 65, None)  # Turing: no bf16, no fp8
    assert datapack.resolve_gpu("a100-40gb").embodied_kgco2eq is None  # no source: not guessed


# --- name resolution ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("ESP", "ESP"), ("esp", "ESP"), ("ES", "ESP"), ("Spain", "ESP"), ("spain", "ESP"), ("  SPAIN ", "ESP"), ("España", "ESP"),
        ("brazil", "BRA"), ("United States", "USA"), ("United States of America", "USA"), ("USA", "USA"), ("us", "USA"), ("america", "USA"),
        ("UK", "GBR"), ("Britain", "GBR"), ("United Kingdom", "GBR"), ("GB", "GBR"), ("Deutschland", "DEU"), ("Côte d'Ivoire", "CIV"),
        ("cote d'ivoire", "CIV"), ("South Korea", "KOR"), ("Korea, Republic of", "KOR"), ("Russia", "RUS"), ("Vietnam", "VNM"),
        ("Taiwan", "TWN"), ("Hong Kong", "HKG"), ("World", "WLD"), ("georgia", "GEO"), ("georgia-us", "US-GA"),
        ("US-CA", "US-CA"), ("us-ca", "US-CA"), ("California", "US-CA"), ("CA-QC", "CA-QC"), ("Quebec", "CA-QC"), ("CN-BJ", "CN-BJ"),
        ("Beijing", "CN-BJ"), ("AU-NSW", "AU-NSW"), ("New South Wales", "AU-NSW"),
        ("aws:us-east-1", "aws:us-east-1"), ("AWS:US-EAST-1", "aws:us-east-1"), ("amazon:us-east-1", "aws:us-east-1"), ("us-east-1", "aws:us-east-1"),
        ("gcp:europe-west9", "gcp:europe-west9"), ("google:europe-west9", "gcp:europe-west9"), ("europe-west9", "gcp:europe-west9"),
        ("azure:francecentral", "azure:francecentral"), ("azure:westeurope", "azure:westeurope"), ("azure:West Europe", "azure:westeurope"),
        ("microsoft:westeurope", "azure:westeurope"), ("westeurope", "azure:westeurope"),
    ],
)  # fmt: skip
def test_region_names_as_users_write_them(name, ident):
    assert datapack.resolve_region(name).id == ident


def test_cloud_regions_carry_their_location_and_datacentre_preset():
    assert datapack.resolve_region("aws:us-east-1").model_dump(include={"location", "country", "datacenter"}) == {
        "location": "US-VA",
        "country": "USA",
        "datacenter": "aws",
    }
    assert datapack.resolve_region("gcp:europe-west9").model_dump(include={"location", "datacenter", "google_cfe"}) == {
        "location": "FRA",
        "datacenter": "google",
        "google_cfe": 0.96,
    }
    assert datapack.resolve_region("azure:francecentral").model_dump(include={"location", "datacenter"}) == {"location": "FRA", "datacenter": "microsoft"}
    config = yaml.safe_load((PROJECT / "config" / "config.yaml").read_text(encoding="utf-8"))
    for region in datapack.list_regions(kind="cloud"):
        assert region.datacenter in config["datacenters"], region.id


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("gpt-4o", "gpt-4o"), ("GPT-4o", "gpt-4o"), ("gpt-4o-2024-08-06", "gpt-4o"), ("openai/gpt-4o", "gpt-4o"), ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-2031-01-01", "gpt-4o"),  # a snapshot the pack does not list: the dated suffix is dropped
        ("claude-sonnet-4", "claude-sonnet-4"), ("claude-sonnet-4-20250514", "claude-sonnet-4"), ("anthropic/claude-sonnet-4", "claude-sonnet-4"),
        ("claude-sonnet-4@20250514", "claude-sonnet-4"), ("mistral-large-latest", "mistral-large-3"), ("mistral-large", "mistral-large-2"),
        ("mistralai/mistral-large-latest", "mistral-large-3"), ("llama-3.3-70b", "llama-3.3-70b"), ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b"),
        ("Meta-Llama-3.1-70B-Instruct", "llama-3.1-70b"), ("Qwen/Qwen3-32B", "qwen3-32b"), ("deepseek-ai/DeepSeek-R1", "deepseek-r1"),
        ("deepseek-chat", "deepseek-v3.2"), ("models/gemini-2.0-flash", "gemini-2.0-flash"), ("command-a-03-2025", "command-a"),
        ("gemma-2-9b-it", "google/gemma-2-9b-it"), ("gemma-2b-it-gguf", "google/gemma-2b-it"), ("Meta-Llama-3.1-405B-FP8", "llama-3.1-405b"),
        ("grok-1", "grok-1"), ("xai/grok-1", "grok-1"), ("phi-4", "phi-4"), ("nvidia/llama-3.1-nemotron-70b-instruct", "llama-3.1-nemotron-70b"),
    ],
)  # fmt: skip
def test_model_names_as_users_write_them(name, ident):
    assert datapack.resolve_model(name).id == ident


def test_an_unpublished_size_is_a_flagged_range():
    gpt4o = datapack.resolve_model("gpt-4o")
    assert gpt4o.estimate and (gpt4o.active_params_b.min, gpt4o.active_params_b.value, gpt4o.active_params_b.max) == (44, 88, 132)
    llama = datapack.resolve_model("llama-3.3-70b")
    assert not llama.estimate and llama.active_params_b.min == llama.active_params_b.max == 70.6


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("a100", "a100-sxm4-80gb"), ("A100-80GB", "a100-sxm4-80gb"), ("a100-sxm4-80gb", "a100-sxm4-80gb"), ("NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb"),
        ("a100-40gb", "a100-sxm4-40gb"), ("a100-pcie", "a100-pcie-80gb"), ("A100 PCIe 40GB", "a100-pcie-40gb"), ("h100", "h100-sxm"),
        ("H100 SXM", "h100-sxm"), ("NVIDIA H100 80GB HBM3", "h100-sxm"), ("nvidia h100", "h100-sxm"), ("h100-pcie", "h100-pcie"),
        ("H200", "h200"), ("b200", "b200"), ("a10g", "a10g"), ("NVIDIA A10G", "a10g"), ("l4", "l4"), ("L40S", "l40s"), ("Tesla T4", "t4"),
        ("v100", "v100-sxm2-32gb"), ("mi250x", "mi250x"), ("AMD Instinct MI300X", "mi300x"), ("MI325X", "mi325x"),
    ],
)  # fmt: skip
def test_gpu_names_as_users_write_them(name, ident):
    assert datapack.resolve_gpu(name).id == ident


# --- bad names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolve", "name", "error", "words"),
    [
        (datapack.resolve_region, "", InvalidInputError, "region: must not be empty"),
        (datapack.resolve_region, "   ", InvalidInputError, "must not be empty"),
        (datapack.resolve_region, None, InvalidInputError, "must not be empty"),
        (datapack.resolve_region, 42, InvalidInputError, "must be a region name"),
        (datapack.resolve_region, "fr; drop table", InvalidInputError, "is not a region name"),
        (datapack.resolve_region, "x" * 300, InvalidInputError, "at most 200"),
        (datapack.resolve_region, "12345", InvalidInputError, "is a number"),
        (datapack.resolve_region, "aws:", InvalidInputError, "is not a cloud region"),
        (datapack.resolve_region, "aws:us east!", InvalidInputError, "is not a region name"),
        (datapack.resolve_region, "spian", UnknownNameError, "closest: Spain (ESP)"),
        (datapack.resolve_region, "ZZZ", UnknownNameError, "unknown ISO 3166-1 code 'ZZZ'"),
        (datapack.resolve_region, "US-ZZ", UnknownNameError, "unknown ISO 3166-2 subdivision 'US-ZZ'"),
        (datapack.resolve_region, "aws:us-east-9", UnknownNameError, "closest: aws:us-east-2, aws:us-east-1"),
        (datapack.resolve_region, "ovh:gra", UnknownNameError, "unknown cloud provider 'ovh'"),
        (datapack.resolve_model, "", InvalidInputError, "model: must not be empty"),
        (datapack.resolve_model, "gtp-4o", UnknownNameError, "closest: gpt-4o"),
        (datapack.resolve_model, "anthropic/gpt-4o", UnknownNameError, "gpt-4o is published by openai, not anthropic"),
        (datapack.resolve_model, "gpt-4o-mini-tts", UnknownNameError, "not a text-generation model"),
        (datapack.resolve_gpu, "", InvalidInputError, "hardware: must not be empty"),
        (datapack.resolve_gpu, "h1000", UnknownNameError, "closest: h100"),
    ],
)
def test_bad_names_get_one_line_naming_the_option_and_the_closest(resolve, name, error, words):
    with pytest.raises(error) as raised:
        resolve(name)
    message = str(raised.value)
    assert words in message
    assert "\n" not in message
    assert isinstance(raised.value, CalculatorError)


def test_the_option_name_is_the_callers():
    with pytest.raises(InvalidInputError, match=r"^--region: must not be empty"):
        datapack.resolve_region("", option="--region")


def test_a_country_without_a_grid_figure_says_so():
    monaco = datapack.resolve_region("Monaco")
    assert monaco.carbon_intensity_gco2eq_per_kwh is None
    with pytest.raises(UnknownNameError, match="Monaco .MCO. has no grid carbon intensity") as raised:
        monaco.require_grid()
    assert raised.value.code == "no-grid-data"
    assert datapack.resolve_region("France").require_grid() == 44.2


# --- duplicates are an error at build time -----------------------------------------------------


def test_a_name_claimed_by_two_entries_stops_the_build(builder):
    index = builder.Index("gpus")
    index.add("a100", "a100-sxm4-80gb", "one row")
    index.add("A100", "a100-sxm4-80gb", "the same board again")  # same entry: fine
    index.add("a_100", "a100-sxm4-80gb", "one row")
    with pytest.raises(builder.BuildError, match="'A 100' .key 'a-100'. is claimed by a100-sxm4-80gb .one row. and by a100-pcie-40gb .another row."):
        index.add("A 100", "a100-pcie-40gb", "another row")


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        ("curated/gpus.csv", "a100-40gb-pcie;", "a100-40gb-pcie;h100;", "'h100' .* claimed by"),
        ("curated/region_aliases.csv", "holland,NLD,", "holland,NLD,\nholland,BEL,", "'holland' names both NLD and BEL"),
        (
            "curated/models.yaml",
            "aliases: [llama-3.2-1b-instruct, llama3.2-1b]",
            "aliases: [llama-3.2-1b-instruct, llama3.2-1b, gpt-4o]",
            "'gpt-4o' .* claimed by",
        ),
        ("curated/cloud_regions.csv", "aws,us-east-2,US-OH", "aws,us-east-1,US-OH", "aws:us-east-1 listed twice"),
    ],
)
def test_duplicates_in_the_sources_stop_the_build(builder, tmp_path, monkeypatch, file, old, new, words):
    sources = tmp_path / "sources"
    shutil.copytree(PROJECT / "data" / "sources", sources)
    path = sources / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setattr(builder, "SOURCES_DIR", sources)
    with pytest.raises(builder.BuildError, match=words):
        builder.build()


def test_the_check_mode_finds_a_stale_pack(builder, tmp_path, capsys):
    out = tmp_path / "pack"
    assert builder.main(["--out", str(out)]) == 0
    assert builder.main(["--check", "--out", str(out)]) == 0
    (out / "gpus.json").write_text("{}\n", encoding="utf-8")
    assert builder.main(["--check", "--out", str(out)]) == 1
    assert "gpus.json" in capsys.readouterr().err


# --- lazy loading and listings -----------------------------------------------------------------


def test_resolving_a_region_reads_the_regions_table_only(tmp_path, monkeypatch):
    for name in ("regions.json", "manifest.json"):
        shutil.copy(PROJECT / "data" / "pack" / name, tmp_path / name)
    monkeypatch.setenv("GENAI_CARBON_PACK_DIR", str(tmp_path))
    assert datapack.resolve_region("ESP").carbon_intensity_gco2eq_per_kwh == 174.05
    with pytest.raises(CalculatorError, match="models.json: data pack table not found"):
        datapack.resolve_model("gpt-4o")


def test_an_edited_table_is_validated_not_trusted(tmp_path, monkeypatch):
    for path in (PROJECT / "data" / "pack").iterdir():
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "gpus.json").read_text(encoding="utf-8")
    (tmp_path / "gpus.json").write_text(text.replace('"power_w":72.0', '"power_w":-72.0'), encoding="utf-8")
    monkeypatch.setenv("GENAI_CARBON_PACK_DIR", str(tmp_path))
    with pytest.raises(CalculatorError, match=r"gpus.json: entries.l4: Input should be greater than 0"):
        datapack.resolve_gpu("l4")


def test_listings_filter_by_kind_provider_country_and_search():
    aws = datapack.list_regions(provider="aws")
    assert len(aws) >= 30 and all(region.id.startswith("aws:") for region in aws)
    us = datapack.list_regions(country="United States", kind="subdivision")
    assert {region.id for region in us} >= {f"US-{state}" for state in US_STATES}
    assert [region.id for region in datapack.list_regions(search="paris", provider="google")] == ["gcp:europe-west9"]
    assert {model.provider for model in datapack.list_models(provider="anthropic")} == {"anthropic"}
    assert "claude-sonnet-4" in {model.id for model in datapack.list_models(search="sonnet")}
    assert {gpu.id for gpu in datapack.list_gpus(vendor="amd")} == {"mi250x", "mi300x", "mi325x"}
    with pytest.raises(InvalidInputError, match="provider: unknown cloud provider 'ovh'"):
        datapack.list_regions(provider="ovh")
