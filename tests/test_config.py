"""Config files: validated when loaded, names case-insensitive, errors name the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import traitement
from traitement.config import CONFIG_DIR, load_config


@pytest.fixture()
def config_copy(tmp_path: Path) -> Path:
    for name in ("config.yaml", "config_model.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("name", ["usa", "USA", "Usa", " usa ", "us", "france", "FRA", "fra", "FR", "DEU", "iceland", "ISL"])
def test_regions_case_insensitive_and_iso(name):
    key, region = load_config().region(name)
    assert key in {"USA", "FRA", "DEU", "ISL"}
    assert region.carbon_intensity_gco2eq_per_kwh > 0


def test_required_regions_hardware_and_profiles_exist():
    config = load_config()
    for region in ("france", "germany", "iceland", "usa", "sweden", "uk", "china", "india", "world"):
        config.region(region)
    for datacenter in ("google", "aws", "microsoft", "industry-average"):
        config.datacenter(datacenter)
    for hardware in ("a100", "h100", "h200", "b200", "l4", "mi300x"):
        config.hardware(hardware)
    for profile in ("chatbot", "completion", "translation"):
        config.profile(profile)


def test_reference_values_match_design():
    """DESIGN.md section 5: Ember 2024 intensities and board powers."""
    config = load_config()
    assert config.region("france")[1].carbon_intensity_gco2eq_per_kwh == 44.2
    assert config.region("usa")[1].carbon_intensity_gco2eq_per_kwh == 383.6
    assert config.region("world")[1].carbon_intensity_gco2eq_per_kwh == 472.9
    assert config.gpu("h100")[1].power_w == 700
    assert config.gpu("a100")[1].power_w == 400
    assert config.datacenter("google")[1].pue.value == 1.09


def test_unknown_region_names_the_closest():
    with pytest.raises(traitement.UnknownNameError) as caught:
        load_config().region("frnace")
    assert caught.value.code == "unknown-region"
    assert "closest: France (FRA)" in str(caught.value)


def test_unknown_hardware_suggests_the_closest():
    with pytest.raises(traitement.UnknownNameError, match="did you mean h100"):
        load_config().hardware("h10")


def test_every_entry_has_a_source():
    config = load_config()
    entries = [
        *config.site.datacenters.values(),
        *config.model.gpus.values(),
        *config.model.hardware.values(),
        *config.model.profiles.values(),
    ]
    assert all(entry.source.strip() for entry in entries)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("config.yaml", "pue: {value: 1.09}", "pue: {value: lots}", "datacenters.google.pue"),
        ("config.yaml", "  aws:\n", "  aws:\n    colour: blue\n", "datacenters.aws.colour"),
        ("config.yaml", "  region: usa", "  region: ''", "defaults: region: must not be empty"),
        ("config.yaml", "  region: usa", "  region: monaco", "defaults: region: Monaco (MCO) has no grid carbon intensity"),
        ("config_model.yaml", "    gpu: h100\n    n_gpu: 4", "    gpu: h999\n    n_gpu: 4", "unknown gpu 'h999'"),
        (
            "config_model.yaml",
            "decode_tokens_per_s: {value: 40, min: 20, max: 60}",
            "decode_tokens_per_s: {value: 40, min: 50, max: 60}",
            "hardware.h100.decode_tokens_per_s",
        ),
        ("config.yaml", "  region: usa", "  region: atlantis", "atlantis"),
        ("config.yaml", "datacenters:\n", "datacenters: [\n", "invalid YAML at line"),
        # issue 15, item 12: a range is validated like the value it bounds, not only ordered
        ("config_model.yaml", "gpu_utilisation: {value: 0.6, min: 0.4, max: 0.85}", "gpu_utilisation: {value: 0.6, min: -3, max: 0.85}",
         "hardware.h100.gpu_utilisation: min must be >= 0 (got -3)"),
        ("config_model.yaml", "gpu_utilisation: {value: 0.6, min: 0.4, max: 0.85}", "gpu_utilisation: {value: 0.6, min: 0.4, max: 5}",
         "hardware.h100.gpu_utilisation: max must be <= 1 (got 5)"),
        ("config_model.yaml", "embodied_kgco2eq: {value: 164, min: 164, max: 575}", "embodied_kgco2eq: {value: 164, min: -164, max: 575}",
         "gpus.h100.embodied_kgco2eq: min must be >= 0 (got -164)"),
        ("config_model.yaml", "decode_tokens_per_s: {value: 40, min: 20, max: 60}", "decode_tokens_per_s: {value: 40, min: 0, max: 60}",
         "hardware.h100.decode_tokens_per_s: min must be >= 0.01 (got 0)"),
        ("config_model.yaml", "input_tokens: {value: 4175, min: 1600, max: 7625}", "input_tokens: {value: 4175, min: 0, max: 7625}",
         "profiles.chatbot.input_tokens: min must be >= 1 (got 0)"),
        ("config.yaml", "pue: {value: 1.57, min: 1.08, max: 2.0}", "pue: {value: 1.57, min: 0.5, max: 2.0}",
         "datacenters.industry-average.pue: min must be >= 1 (got 0.5)"),
    ],
)
def test_malformed_config_names_the_key(config_copy, file, old, new, expected):
    path = config_copy / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(traitement.ConfigError) as caught:
        load_config(config_copy)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 1 and "\n" not in str(caught.value)


def test_zero_minimum_of_a_divisor_is_refused_for_every_divisor(config_copy):
    """batch_size and lifetime_years divide the energy: a minimum of 0 would give infinity."""
    path = config_copy / "config_model.yaml"
    text = path.read_text()
    for name in ("batch_size", "lifetime_years", "prefill_tokens_per_s"):
        line = next(line for line in text.splitlines() if line.strip().startswith(f"{name}:"))
        broken = line.split(":")[0] + ": {value: 1, min: 0, max: 2}"
        path.write_text(text.replace(line, broken, 1))
        with pytest.raises(traitement.ConfigError, match=f"{name}: min must be >= "):
            load_config(config_copy)


def test_missing_config_file(tmp_path):
    with pytest.raises(traitement.ConfigError, match="file not found"):
        load_config(tmp_path)
