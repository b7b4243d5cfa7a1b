"""Method 'measured' (CodeCarbon, offline), saved hardware profiles and the local-vs-API comparison."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement import measurement as measuring

BUSY_S = 1.5
BUSY_LOOP = f"import time\nend = time.perf_counter() + {BUSY_S}\nwhile time.perf_counter() < end:\n    pass"


def busy(seconds: float = BUSY_S) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


FRANCE_GCO2EQ_PER_KWH = 44.2
"""The project's grid figure for France (config/config.yaml: Ember 2024), the one every command uses."""


def codecarbon_fra_intensity() -> float:
    """The intensity CodeCarbon applies to France, read from its own data file (not typed in here)."""
    from codecarbon.input import DataSource

    return DataSource().get_global_energy_mix_data()["FRA"]["carbon_intensity"]


def rapl_readable() -> bool:
    return os.access("/sys/class/powercap/intel-rapl/intel-rapl:0/energy_uj", os.R_OK)


@pytest.fixture(scope="module")
def measured():
    """One real run: a 1.5 s busy loop, measured in process; the online tracker is booby-trapped."""
    from codecarbon import EmissionsTracker

    def online(*args, **kwargs):
        raise AssertionError("the online EmissionsTracker must never be used")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EmissionsTracker, "__init__", online)
        with traitement.measure(region="FRA", input_tokens=50, output_tokens=300) as meter:
            busy()
    return meter.result


@pytest.fixture
def user_config(tmp_path, monkeypatch):
    path = tmp_path / "user" / "hardware.yaml"
    monkeypatch.setenv("GENAI_CARBON_USER_CONFIG", str(path))
    return path


def test_measured_run_has_energy_and_duration(measured):
    assert measured.energy_kwh > 0
    assert measured.duration_s >= BUSY_S
    assert measured.energy_kwh == pytest.approx(measured.energy_cpu_kwh + measured.energy_gpu_kwh + measured.energy_ram_kwh, rel=1e-9)


def test_carbon_is_energy_times_the_projects_intensity(measured):
    """Issue 18, item 7: CodeCarbon measures the energy; the carbon uses the project's figure for France (44.2), not CodeCarbon's."""
    assert codecarbon_fra_intensity() != pytest.approx(FRANCE_GCO2EQ_PER_KWH, rel=0.01)  # the two sources differ, so the test can fail
    assert traitement.load_config().region("FRA")[1].carbon_intensity_gco2eq_per_kwh == FRANCE_GCO2EQ_PER_KWH
    assert measured.intensity_gco2eq_per_kwh == FRANCE_GCO2EQ_PER_KWH
    assert measured.carbon_gco2eq == pytest.approx(measured.energy_kwh * FRANCE_GCO2EQ_PER_KWH, rel=1e-12)
    assert measured.region == "FRA" and measured.country_iso_code == "FRA" and measured.country_name == "France"
    assert "the project's grid figure for FRA (data pack 2026.12: ember-2024 2024)" in measured.intensity_source


def test_measure_text_names_the_intensity_and_its_source(capsys):
    code = interface.main(["measure", "--region", "france", "--", sys.executable, "-c", "pass"])
    out = capsys.readouterr().out
    assert code == 0
    assert "at 44.2 gCO2e/kWh, the project's grid figure for FRA" in out


def test_a_region_codecarbon_lacks_still_measures():
    """'world' has a project figure but no CodeCarbon country: the tracker runs with another country, which changes no figure kept."""
    region, tracker_country, intensity, _ = measuring.resolve_region("world")
    assert (region, tracker_country) == ("WLD", measuring.TRACKER_FALLBACK_COUNTRY)
    assert intensity == traitement.load_config().region("world")[1].carbon_intensity_gco2eq_per_kwh


def test_sensors_match_this_machine(measured):
    sensors = measured.sensors
    if rapl_readable():
        assert sensors["cpu"].startswith("RAPL")
    else:
        assert sensors["cpu"].startswith("CPU-load model") or sensors["cpu"].startswith("constant model")
        assert any("no RAPL" in w for w in measured.warnings)
    if shutil.which("nvidia-smi"):
        assert sensors["gpu"].startswith("NVML")
    else:
        assert sensors["gpu"].startswith("none")
        assert measured.energy_gpu_kwh == 0
        assert any("no GPU found" in w for w in measured.warnings)


def test_per_token_figures(measured):
    result = measured.to_dict()
    assert result["method"] == "measured"
    assert result["energy_wh_per_output_token"] == pytest.approx(measured.energy_kwh * 1000 / 300, rel=1e-12)
    assert result["output_tokens_per_s"] == pytest.approx(300 / measured.duration_s, rel=1e-12)
    assert result["mean_power_w"] == pytest.approx(measured.energy_kwh * 3.6e6 / measured.duration_s, rel=1e-12)
    assert "scope 2" in result["covers"]["carbon_gco2eq"]


def test_calibrate_profile_arithmetic():
    # 1e-5 kWh in 2 s = 36 J / 2 s = 18 W; (250 / 125 + 400) tokens / 2 s = 201 tokens/s decode, x125 prefill.
    fitted = measuring.calibrate_profile(1e-5, 2.0, 400, 250, 125.0)
    assert fitted["power_w"] == pytest.approx(18.0, rel=1e-12)
    assert fitted["decode_tokens_per_s"] == pytest.approx(201.0, rel=1e-12)
    assert fitted["prefill_tokens_per_s"] == pytest.approx(25125.0, rel=1e-12)


def test_saved_profile_reproduces_the_measurement(measured, user_config, capsys):
    saved = measuring.save_profile(user_config, "my-box", measured, 125.0, "2025-01-01")
    assert user_config.exists() and saved["profile"] == "my-box"
    code = interface.main(["--hardware", "MY-BOX", "--pue", "1", "--in_tok", "50", "--out_tok", "300", "--region", "FRA", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["energy_kwh"] == pytest.approx(measured.energy_kwh, rel=1e-9)
    assert result["duration_s"] == pytest.approx(measured.duration_s, rel=1e-9)
    # the shipped presets are still there, and a shipped name cannot be saved over
    assert "h100" in traitement.load_config().model.hardware
    code = interface.main(["measure", "--region", "FRA", "--out_tok", "5", "--save-profile", "h100", "--", sys.executable, "-c", "pass"])
    assert code == 2 and "shipped hardware preset" in capsys.readouterr().err


def test_a_measured_machine_with_a_model_size_is_a_one_line_error(measured, user_config, capsys):
    """Issue 15, item 19: a saved machine has no memory size, so the model-aware mode cannot size it: one line, not a traceback."""
    measuring.save_profile(user_config, "my-box", measured, 125.0, "2025-01-01")
    code = interface.main(["--hardware", "my-box", "--model", "llama-3.1-8b", "--out_tok", "300"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "gpu 'measured-my-box': its memory, bandwidth or compute is unknown (a measured machine)" in err


def test_cli_measure_passes_on_the_exit_code(capsys):
    code = interface.main(["measure", "--region", "fra", "--out_tok", "10", "--json", "--", sys.executable, "-c", "import sys; sys.exit(3)"])
    captured = capsys.readouterr()
    assert code == 3
    result = json.loads(captured.out)
    assert result["method"] == "measured" and result["region"] == "FRA" and result["country_iso_code"] == "FRA"
    assert result["intensity_gco2eq_per_kwh"] == FRANCE_GCO2EQ_PER_KWH
    assert result["energy_kwh"] > 0
    assert any("exited with code 3" in w for w in result["warnings"])
    assert "exited with code 3" in captured.err


def test_cli_measure_and_save_profile(user_config, capsys):
    argv = ["measure", "--region", "FRA", "--in_tok", "20", "--out_tok", "100", "--save-profile", "cli-box"]
    code = interface.main([*argv, "--", sys.executable, "-c", BUSY_LOOP])
    out = capsys.readouterr().out
    assert code == 0
    assert "sensors" in out and "Wh per output token" in out and "saved" in out
    assert "cli-box" in traitement.load_config().model.hardware


def test_compare_from_a_saved_measurement(measured, tmp_path, capsys):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(measured.to_dict()))
    code = interface.main(["compare", "--model", "mistral-small", "--from-json", str(path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "scope 2" in data["warning"] and "scope 3" in data["warning"]
    config = traitement.load_config()
    intensity = config.region("FRA")[1].carbon_intensity_gco2eq_per_kwh
    common = data["common_perimeter"]
    assert common["local_carbon_gco2eq"] == pytest.approx(measured.energy_kwh * intensity, rel=1e-9)
    api_wh = 300 * (8.91e-5 * 24 + 1.43e-3)
    assert common["api_carbon_gco2eq"] == pytest.approx(api_wh / 1000 * intensity, rel=1e-9)
    assert data["api"]["carbon_gco2eq"] == pytest.approx(api_wh * 1.14 / 4.95572, rel=1e-9)
    assert data["local"]["carbon_gco2eq"] == pytest.approx(measured.carbon_gco2eq, rel=1e-12)
    # one intensity per country: the local run and the common perimeter use the same figure
    assert data["local"]["intensity_gco2eq_per_kwh"] == common["intensity_gco2eq_per_kwh"] == FRANCE_GCO2EQ_PER_KWH
    assert data["local"]["carbon_gco2eq"] == pytest.approx(common["local_carbon_gco2eq"], rel=1e-12)
    assert common["api_over_local"] == pytest.approx(common["api_carbon_gco2eq"] / common["local_carbon_gco2eq"], rel=1e-12)
    assert interface.main(["compare", "--model", "mistral-small", "--from-json", str(path)]) == 0
    assert "common perimeter" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["measure", "--region", "FRX", "--", "true"], "unknown ISO 3166-1 code 'FRX'; closest: France (FRA)"),
        (["measure", "--", "true"], "--region is required"),
        (["measure", "--region", "FRA"], "no command to measure"),
        (["measure", "--region", "FRA", "--", "no-such-command-here"], "command not found"),
        (["measure", "--region", "FRA", "--out_tok", "-5", "--", "true"], "--out_tok (output_tokens)"),
        (["measure", "--region", "FRA", "--save-profile", "x", "--", "true"], "--save-profile needs --out_tok"),
        (["measure", "--region", "FRA", "--out_tok", "5", "--save-profile", "Bad Name", "--", "true"], "--save-profile (save_profile)"),
        (["compare", "--region", "FRA", "--out_tok", "5", "--", "true"], "--model is required"),
        (["compare", "--model", "gpt-99", "--region", "FRA", "--", "true"], "unknown model 'gpt-99'"),
        (["compare", "--model", "mistral-small", "--from-json", "/no/such/file.json"], "--from-json"),
    ],
)
def test_bad_inputs(capsys, argv, needle):
    code = interface.main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert needle in captured.err


def test_context_manager_rejects_bad_tokens():
    with pytest.raises(traitement.InvalidInputError, match="output_tokens"):
        traitement.measure("FRA", output_tokens=-1)
    with pytest.raises(traitement.UnknownNameError, match="unknown region 'Narnia'"):
        traitement.measure("Narnia")


def test_api_never_runs_commands():
    paths = TestClient(api.app).get("/openapi.json").json()["paths"]
    assert "/models" in paths
    assert not any("measure" in path or "compare" in path for path in paths)
