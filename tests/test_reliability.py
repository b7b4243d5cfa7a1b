"""Issue 15 (reliability, all but the request logs): one regression test per case, in the CLI and the API.

Each case was a crash, a frozen server, a silent default or a wrong answer; each
now gets a result or a one-line error naming the field or the file (CLI exit 2
for a wrong call, 1 for a broken config or a failed write; API 4xx).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

import api
import interface
import traitement
from genai_carbon.webapi.app import create_app
from genai_carbon.webapi.errors import without_folders
from traitement import analytics, files, validation
from traitement.errors import CalculatorError, ConfigError, InvalidInputError
from traitement.export import NonFiniteError, non_finite_at, safe_cell, safe_frame, write_csv
from traitement.paths import CONFIG_DIR, DATA_DIR
from traitement.settings import Settings

client = TestClient(api.app, raise_server_exceptions=False)
SAMPLE = DATA_DIR / "sample-daily-analytics.yaml"
CASES = DATA_DIR / "validation" / "published_cases.yaml"
JSON = {"content-type": "application/json"}

GOOD_ANALYTICS = """genai:
  chatbots:
  - {date: 2025-01-06, count: 10}
  - {date: 2025-01-07, count: 12}
  completions:
  - {date: 2025-01-06, count: 5}
  translations: []
"""
GOOD_CASES = """cases:
  - {id: a, active_params_b: 8, n_gpu: 1, hardware: h100, batch_size: 8, output_tokens: 389, boundary: gpu, energy_j_per_output_token: 0.455}
"""
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)
"""Billion laughs: nine lists of nine aliases, 9**9 values once expanded, in 200 bytes."""


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = interface.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The CLI's error: one line on stderr, no traceback."""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def api_error(response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"detail", "code"} and "\n" not in body["detail"], body
    assert "Traceback" not in response.text and "<class" not in response.text
    return body


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped config files, used through GENAI_CARBON_CONFIG_DIR (a test may break one)."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    monkeypatch.setenv("GENAI_CARBON_CONFIG_DIR", str(folder))
    monkeypatch.setenv("GENAI_CARBON_USER_CONFIG", str(tmp_path / "no-user-file.yaml"))
    return folder


def fresh() -> None:
    """Forget the config files read so far (each is parsed once per path and process): a test has just changed one."""
    from traitement import config, energy_model

    for loader in (config._load, config._load_catalogue, energy_model._load):
        loader.cache_clear()


@pytest.fixture
def user_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "hardware.yaml"
    monkeypatch.setenv("GENAI_CARBON_USER_CONFIG", str(path))
    return path


MEASURED_USER_FILE = """gpus:
  measured-box:
    name: measured machine
    power_w: 120.0
    memory_gb: null
    memory_bandwidth_tb_per_s: null
    bf16_tflop_per_s: null
    embodied_kgco2eq: 0.0
    source: measured
hardware:
  box:
    description: this machine
    gpu: measured-box
    n_gpu: 1
    gpu_utilisation: 1.0
    cpu_power_w: 0.0
    cpu_utilisation: 0.0
    prefill_tokens_per_s: 5000
    decode_tokens_per_s: 40
    batch_size: 1.0
    server_embodied_kgco2eq: 0.0
    lifetime_years: 4.0
    source: measured
"""


# --- item 2: a period of 560 years, the event loop --------------------------------------------------------


def test_item2_an_analytics_period_over_ten_years_is_refused_naming_the_cap(tmp_path, capsys):
    wide = "genai:\n  chatbots:\n  - {date: 1700-01-01, count: 1}\n  - {date: 2260-01-01, count: 1}\n  completions: []\n  translations: []\n"
    code, _, err = cli(capsys, "analytics", str(write(tmp_path, "wide.yaml", wide)))
    assert code == 2
    assert one_line(err).endswith("genai: the period 1700-01-01 to 2260-01-01 spans 204,536 days; allowed: at most 3,660 days (about ten years)")
    body = api_error(client.post("/analytics", files={"file": ("wide.yaml", wide.encode())}), 422)
    assert body["code"] == "period-too-long" and "3,660 days" in body["detail"]


def test_item2_a_period_of_exactly_the_cap_is_estimated():
    start = analytics.dt.date(2020, 1, 1)
    end = start + analytics.dt.timedelta(days=analytics.MAX_PERIOD_DAYS - 1)
    data = analytics.AnalyticsFile.model_validate(
        {"genai": {"chatbots": [{"date": start, "count": 1}, {"date": end, "count": 2}], "completions": [], "translations": []}}
    )
    result = traitement.analyse_analytics(traitement.load_config(), data)
    assert result.days == analytics.MAX_PERIOD_DAYS and result.total()["requests"] == 3


def test_item2_a_series_longer_than_the_cap_is_refused_before_its_entries_are_checked():
    entries = [{"date": "2025-01-01", "count": 1}] * (analytics.MAX_PERIOD_DAYS + 1)
    with pytest.raises(analytics.AnalyticsFileError, match=r"genai\.chatbots: must have at most 3,660 entries \(got 3,661\)"):
        traitement.parse(analytics.AnalyticsFile, {"genai": {"chatbots": entries, "completions": [], "translations": []}}, error=analytics.AnalyticsFileError)


# --- item 3: an alias repeated 160,000 times, billion laughs, the number of cases --------------------------


def test_item3_an_alias_repeated_160000_times_is_refused_at_once(capsys, tmp_path):
    text = "x: &a {id: a, output_tokens: 10, boundary: gpu, energy_wh_per_request: 1}\ncases: [" + ",".join(["*a"] * 160_000) + "]\n"
    body = api_error(client.post("/validate", files={"file": ("aliases.yaml", text.encode())}), 422)
    assert body["detail"] == "aliases.yaml: too many values once the YAML aliases are expanded (more than 1,000,000); allowed: at most 1,000,000 values"
    code, _, err = cli(capsys, "validate", str(write(tmp_path, "aliases.yaml", text)))
    assert code == 2 and "too many values once the YAML aliases are expanded" in one_line(err)


def test_item3_the_number_of_cases_is_capped_before_any_case_is_read(monkeypatch):
    monkeypatch.setattr(validation, "MAX_CASES", 2)
    text = "cases:\n" + "".join(f"  - {{id: c{i}, output_tokens: 1, boundary: gpu, energy_wh_per_request: 1}}\n" for i in range(3))
    body = api_error(client.post("/validate", files={"file": ("many.yaml", text.encode())}), 422)
    assert body == {"detail": "many.yaml: cases: 3 cases; allowed: at most 2", "code": "too-many-cases"}


def test_item3_a_duplicate_case_id_names_both_cases():
    text = "cases:\n" + "".join(f"  - {{id: {name}, output_tokens: 1, boundary: gpu, energy_wh_per_request: 1}}\n" for name in ("a", "b", "c", "b"))
    with pytest.raises(InvalidInputError, match=r"^up\.yaml: cases\[3\]\.id: duplicate case id 'b' \(also cases\[1\]\)$"):
        validation.parse_cases_text(text, "up.yaml")


def test_item3_billion_laughs_in_every_yaml_the_tool_reads(tmp_path, capsys, config_dir, monkeypatch):
    expected = "too many values once the YAML aliases are expanded (more than 1,000,000)"
    assert expected in api_error(client.post("/analytics", files={"file": ("bomb.yaml", BOMB.encode())}), 422)["detail"]
    assert expected in api_error(client.post("/validate", files={"file": ("bomb.yaml", BOMB.encode())}), 422)["detail"]
    bomb = write(tmp_path, "bomb.yaml", BOMB)
    for argv in (["analytics", str(bomb)], ["validate", str(bomb)]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and expected in one_line(err), argv
    (config_dir / "config.yaml").write_text(BOMB)
    fresh()
    code, _, err = cli(capsys, "regions")
    assert code == 1 and one_line(err).endswith(f"config.yaml: {expected}; allowed: at most 1,000,000 values")
    shutil.copy(CONFIG_DIR / "config.yaml", config_dir / "config.yaml")
    fresh()
    monkeypatch.setenv("GENAI_CARBON_USER_CONFIG", str(bomb))
    code, _, err = cli(capsys, "hardware")
    assert code == 1 and expected in one_line(err)


def test_item3_an_alias_inside_itself_is_refused():
    with pytest.raises(InvalidInputError, match="an alias refers to a value that contains it"):
        files.load_yaml("a: &a [1, *a]\n", "loop.yaml", InvalidInputError)


def test_item3_aliases_and_merge_keys_within_the_cap_still_work():
    text = "base: &base {a: 1, b: 2}\nx: {<<: *base, b: 3}\ny: [*base, *base]\n"
    assert files.load_yaml(text, "ok.yaml", InvalidInputError) == {"base": {"a": 1, "b": 2}, "x": {"a": 1, "b": 3}, "y": [{"a": 1, "b": 2}] * 2}


# --- item 6: /dev/zero, folders, huge files: a bounded read ----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["analytics", "/dev/zero"], 2, "/dev/zero: larger than the limit of 5,242,880 bytes; allowed: at most 5,242,880 bytes"),
        (["validate", "/dev/zero"], 2, "/dev/zero: larger than the limit of 8,388,608 bytes"),
        (["compare", "--model", "mistral-small", "--from-json", "/dev/zero"], 2, "--from-json: /dev/zero: larger than the limit of 1,048,576 bytes"),
        (["analytics", "/tmp"], 2, "/tmp: is a folder; allowed: a file"),
        (["validate", "/nonexistent/cases.yaml"], 2, "/nonexistent/cases.yaml: file not found"),
    ],
)
def test_item6_a_device_or_folder_given_as_a_file_is_one_line(capsys, argv, code, needle):
    got, _, err = cli(capsys, *argv)
    assert got == code and needle in one_line(err)


def test_item6_config_and_user_files_are_read_with_a_bound(config_dir, user_file, capsys):
    (config_dir / "config.yaml").unlink()
    (config_dir / "config.yaml").symlink_to("/dev/zero")
    fresh()
    code, _, err = cli(capsys, "regions")
    assert code == 1 and "config.yaml: larger than the limit of 8,388,608 bytes" in one_line(err)
    shutil.copy(CONFIG_DIR / "config.yaml", config_dir / "config.yaml.copy")
    (config_dir / "config.yaml").unlink()
    (config_dir / "config.yaml.copy").rename(config_dir / "config.yaml")
    fresh()
    user_file.symlink_to("/dev/zero")
    code, _, err = cli(capsys, "hardware")
    assert code == 1 and f"{user_file}: larger than the limit" in one_line(err)


@pytest.mark.parametrize("table", ["/dev/zero", "[" * 100_000])
def test_item6_a_data_pack_table_is_read_with_a_bound(tmp_path, table):
    """A pack folder (GENAI_CARBON_PACK_DIR) holding a device or deep JSON: one line, exit 1 (a separate process: the pack is read once per process)."""
    import subprocess
    import sys

    pack = tmp_path / "pack"
    shutil.copytree(DATA_DIR / "pack", pack)
    (pack / "regions.json").unlink()
    if table.startswith("/"):
        (pack / "regions.json").symlink_to(table)
    else:
        (pack / "regions.json").write_text(table)
    env = {"PATH": "/usr/bin:/bin", "GENAI_CARBON_PACK_DIR": str(pack), "GENAI_CARBON_USER_CONFIG": str(tmp_path / "none.yaml")}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "interface.py", "--region", "FRA"], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    expected = "larger than the limit of 67,108,864 bytes" if table.startswith("/") else "invalid JSON: nested too deeply"
    assert done.returncode == 1 and f"regions.json: {expected}" in one_line(done.stderr)


def test_item6_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    big = write(tmp_path, "big.yaml", b"#" * 100)
    with pytest.raises(InvalidInputError, match=r"big\.yaml: larger than the limit of 99 bytes"):
        files.read_bounded(big, 99, InvalidInputError)
    assert files.read_bounded(big, 100, InvalidInputError) == b"#" * 100


# --- items 10 and 15: duplicate keys and impossible dates in every YAML -------------------------------------

DUPLICATE_CHATBOTS = (
    "genai:\n  chatbots:\n  - {date: 2025-01-06, count: 1}\n  completions: []\n  chatbots:\n  - {date: 2025-01-07, count: 1000}\n  translations: []\n"
)
ONCE = "; each key may appear once"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (DUPLICATE_CHATBOTS, "invalid YAML at line 5: duplicate key 'chatbots' (first at line 2)" + ONCE),
        (GOOD_ANALYTICS.replace("count: 10}", "count: 10, count: 1000}"), "invalid YAML at line 3: duplicate key 'count' (first at line 3)" + ONCE),
        (GOOD_ANALYTICS.replace("2025-01-07", "2025-02-30"), "invalid YAML at line 4: '2025-02-30' is not a calendar date (day is out of range for month)"),
        (GOOD_ANALYTICS.replace("2025-01-07", "0000-01-01"), "invalid YAML at line 4: '0000-01-01' is not a calendar date (year 0 is out of range)"),
    ],
)
def test_items10_15_analytics_file(tmp_path, capsys, text, needle):
    code, _, err = cli(capsys, "analytics", str(write(tmp_path, "a.yaml", text)))
    assert code == 2 and one_line(err).endswith(f"a.yaml: {needle}")
    assert api_error(client.post("/analytics", files={"file": ("a.yaml", text.encode())}), 422)["detail"] == f"a.yaml: {needle}"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("output_tokens: 389,", "output_tokens: 389, output_tokens: 1,"), "duplicate key 'output_tokens' (first at line 2)"),
        (
            ("cases:\n", "cases:\n  - {id: z, output_tokens: 1, boundary: gpu, energy_wh_per_request: 1, source: 2025-02-30}\n"),
            "'2025-02-30' is not a calendar date",
        ),
    ],
)
def test_items10_15_cases_file(tmp_path, capsys, change, needle):
    text = GOOD_CASES.replace(*change)
    code, _, err = cli(capsys, "validate", str(write(tmp_path, "c.yaml", text)))
    assert code == 2 and needle in one_line(err) and "c.yaml: invalid YAML at line 2" in err
    assert needle in api_error(client.post("/validate", files={"file": ("c.yaml", text.encode())}), 422)["detail"]


def test_items10_15_config_files(config_dir, capsys):
    site = (CONFIG_DIR / "config.yaml").read_text()
    (config_dir / "config.yaml").write_text(site + "\ndatacenters: {}\n")
    fresh()
    code, _, err = cli(capsys, "regions")
    assert code == 1 and "config.yaml: invalid YAML at line" in one_line(err) and "duplicate key 'datacenters'" in err
    (config_dir / "config.yaml").write_text(site + "\nbuilt: 2025-02-30\n")
    fresh()
    code, _, err = cli(capsys, "regions")
    assert code == 1 and "'2025-02-30' is not a calendar date" in one_line(err)


def test_items10_15_user_hardware_file(user_file, capsys):
    user_file.write_text(MEASURED_USER_FILE + "gpus: {}\n")
    code, _, err = cli(capsys, "hardware")
    assert code == 1 and f"{user_file}: invalid YAML at line 24: duplicate key 'gpus' (first at line 1)" in one_line(err)
    user_file.write_text(MEASURED_USER_FILE.replace("source: measured\nhardware", "source: 0000-01-01\nhardware"))
    code, _, err = cli(capsys, "hardware")
    assert code == 1 and "'0000-01-01' is not a calendar date" in one_line(err)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: !!int abc", "'abc' is not an integer"),
        ("a: !!bool maybe", "'maybe' is not a boolean"),
        ("a: !!timestamp soon", "'soon' is not a calendar date"),
        ("a: " + "9" * 5000, "is not an integer (Exceeds the limit (4300 digits)"),
        ("a: !!python/object:os.system x", "could not determine a constructor"),
        ("[" * 2000 + "]" * 2000, "exceeded maximum nesting depth"),
    ],
)
def test_items10_15_values_the_yaml_library_raises_on_are_one_line(text, needle):
    with pytest.raises(InvalidInputError) as caught:
        files.load_yaml(text, "t.yaml", InvalidInputError)
    assert str(caught.value).startswith("t.yaml: invalid YAML") and needle in str(caught.value) and "\n" not in str(caught.value)


# --- item 13: an empty name is an error, never the default -------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--hardware", ""], "--hardware (hardware): must not be empty"),
        (["--datacenter", ""], "--datacenter (datacenter): must not be empty"),
        (["--profile", ""], "--profile (profile): must not be empty"),
        (["--hardware", "   "], "--hardware (hardware): must not be empty or blank"),
        (["--model", " "], "--model (model): must not be empty or blank"),
        (["--active-params-b", "8", "--precision", ""], "--precision (precision): must not be empty"),
        (["analytics", str(SAMPLE), "--hardware", ""], "--hardware (hardware): must not be empty"),
    ],
)
def test_item13_cli_empty_names(capsys, argv, needle):
    code, _, err = cli(capsys, *argv)
    assert code == 2 and needle in one_line(err)


@pytest.mark.parametrize("field", ["hardware", "datacenter", "profile", "region", "model"])
def test_item13_api_empty_names(field):
    body = api_error(client.post("/calculate", json={field: ""}), 422)
    assert body["detail"].startswith(f"{field}: must not be empty")
    assert api_error(client.post("/calculate", json={field: " \t"}), 422)["detail"].startswith(f"{field}: must not be empty or blank")


@pytest.mark.parametrize("query", ["region=", "hardware=", "datacenter=%20"])
def test_item13_analytics_empty_names(query):
    name = query.split("=")[0]
    body = api_error(client.post(f"/analytics?{query}", files={"file": ("a.yaml", GOOD_ANALYTICS.encode())}), 422)
    assert body["detail"].startswith(f"{name}: must not be empty")


def test_item13_the_core_look_ups_refuse_an_empty_name():
    config = traitement.load_config()
    for look_up in (config.region, config.datacenter, config.hardware, config.profile, config.gpu, config.llm):
        with pytest.raises(InvalidInputError, match="must not be empty"):
            look_up("  ")
    assert config.hardware(None)[0] == config.model.defaults.hardware  # only None means the default


# --- items 16 and 23: huge numbers, invalid JSON, other content types -----------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"count": 1,\n  "pue": }', "body: invalid JSON at line 2 column 10: Expecting value"),
        (b'{"count": 1' + b" " * 1_000_000, "body: invalid JSON at line 1 column 1000012: Expecting ',' delimiter"),
        (b'{"count": ' + b"7" * 5000 + b"}", "body: invalid JSON: Exceeds the limit (4300 digits) for integer string conversion"),
        (b"[" * 200_000, "body: invalid JSON: nested too deeply"),
    ],
)
def test_item23_invalid_json_is_located_and_never_echoed(body, detail):
    answer = api_error(client.post("/calculate", content=body, headers=JSON), 422)
    assert answer["detail"] == detail


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
@pytest.mark.parametrize("path", ["/calculate", "/calculate-raw"])
def test_item23_a_body_not_sent_as_json_is_415(path, content_type):
    headers = {"content-type": content_type} if content_type else {}
    answer = api_error(client.post(path, content=b'{"count": 123456789}', headers=headers), 415)
    assert answer["code"] == "unsupported-media-type" and answer["detail"].startswith("content-type: must be application/json")
    assert "123456789" not in answer["detail"]


def test_item16_a_400_digit_number_in_analytics_options_and_cases():
    big = "1" + "0" * 400
    answer = api_error(client.post(f"/analytics?topic_chars={big}", files={"file": ("a.yaml", GOOD_ANALYTICS.encode())}), 422)
    assert answer["detail"].startswith("topic_chars: must be at most 1.8e308 in magnitude")
    cases = GOOD_CASES.replace("energy_j_per_output_token: 0.455", f"energy_j_per_output_token: {big}")
    answer = api_error(client.post("/validate", files={"file": ("c.yaml", cases.encode())}), 422)
    assert answer["detail"].startswith("c.yaml: case 'a'.energy_j_per_output_token: must be at most 1.8e308 in magnitude")


# --- item 17: encodings -----------------------------------------------------------------------------------

ENCODINGS = [
    (GOOD_ANALYTICS.encode("utf-16"), "not UTF-8 text (it looks like UTF-16): byte 0 is 0xff; allowed: a text file saved as UTF-8"),
    (("# r\u00e9sum\u00e9\n" + GOOD_ANALYTICS).encode("latin-1"), "not UTF-8 text: byte 3 is 0xe9; allowed: a text file saved as UTF-8"),
    (bytes(range(128, 256)) * 4, "not UTF-8 text: byte 0 is 0x80; allowed: a text file saved as UTF-8"),
]


@pytest.mark.parametrize(("data", "needle"), ENCODINGS)
def test_item17_analytics_and_cases_files_in_other_encodings(tmp_path, capsys, data, needle):
    path = write(tmp_path, "enc.yaml", data)
    for command in ("analytics", "validate"):
        code, _, err = cli(capsys, command, str(path))
        assert code == 2 and one_line(err).endswith(f"enc.yaml: {needle}"), (command, err)
    for route in ("/analytics", "/validate"):
        assert needle in api_error(client.post(route, files={"file": ("enc.yaml", data)}), 422)["detail"]


@pytest.mark.parametrize(("data", "needle"), ENCODINGS[:2])
def test_item17_config_and_user_files_in_other_encodings(config_dir, user_file, capsys, data, needle):
    text = (CONFIG_DIR / "config.yaml").read_text()
    (config_dir / "config.yaml").write_bytes(text.encode("utf-16") if "UTF-16" in needle else ("# \u00e9\n" + text).encode("latin-1"))
    fresh()
    code, _, err = cli(capsys, "regions")
    assert code == 1 and "config.yaml: not UTF-8 text" in one_line(err)
    (config_dir / "config.yaml").write_text(text)
    fresh()
    user_file.write_bytes(data)
    code, _, err = cli(capsys, "hardware")
    assert code == 1 and f"{user_file}: not UTF-8 text" in one_line(err)


def test_item17_a_utf8_byte_order_mark_is_fine(tmp_path, capsys):
    code, _, _ = cli(capsys, "analytics", str(write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + GOOD_ANALYTICS.encode())))
    assert code == 0


# --- item 19: a measured machine has no memory size ---------------------------------------------------------


def test_item19_a_measured_machine_with_a_model_size_or_in_a_case(user_file, capsys):
    user_file.write_text(MEASURED_USER_FILE)
    code, _, err = cli(capsys, "--hardware", "box", "--active-params-b", "8")
    assert code == 2 and "gpu 'measured-box': its memory, bandwidth or compute is unknown (a measured machine)" in one_line(err)
    app = TestClient(create_app())
    case = GOOD_CASES.replace("hardware: h100", "hardware: measured-box")
    answer = app.post("/validate?method=model-aware", files={"file": ("c.yaml", case.encode())})
    assert answer.status_code == 200
    row = answer.json()["cases"][0]
    assert row["status"] == "skipped" and "its memory, bandwidth or compute is unknown (a measured machine)" in row["reason"]


def test_item19_a_measured_machine_is_left_out_of_the_cross_validation(user_file):
    user_file.write_text(MEASURED_USER_FILE)
    app = TestClient(create_app())
    common = "boundary: gpu, output_tokens: 389, batch_size: 8"
    lines = [
        f"  - {{id: a, model: m1, active_params_b: 8, n_gpu: 1, hardware: h100, {common}, energy_j_per_output_token: 0.455}}",
        f"  - {{id: b, model: m2, active_params_b: 70, n_gpu: 4, hardware: h100, {common}, energy_j_per_output_token: 0.9}}",
        f"  - {{id: c, model: m3, active_params_b: 8, n_gpu: 1, hardware: measured-box, {common}, energy_j_per_output_token: 0.5}}",
    ]
    answer = app.post("/validate?method=model-aware&cross_validate=true", files={"file": ("c.yaml", ("cases:\n" + "\n".join(lines)).encode())})
    assert answer.status_code == 200, answer.text[:300]
    assert [row["id"] for row in answer.json()["leave_one_model_out"]["cases"]] == ["a", "b"]


def test_cross_validation_refits_are_capped(monkeypatch):
    monkeypatch.setattr(validation, "MAX_CROSS_VALIDATION_MODELS", 1)
    answer = api_error(client.post("/validate?cross_validate=true", files={"file": ("p.yaml", CASES.read_bytes())}), 422)
    assert answer["code"] == "too-many-models" and answer["detail"].startswith("cross_validate: the measured cases name ")
    assert answer["detail"].endswith("models (one refit each); allowed: at most 1")


# --- item 20: published figures of 1e308 and 1e-320; JSON output always valid --------------------------------


@pytest.mark.parametrize(
    ("figure", "needle"),
    [
        ("energy_wh_per_request: 1e308", "case 'a'.energy_wh_per_request: must be <= 1,000,000,000"),
        ("energy_wh_per_request: 1e-320", "case 'a'.energy_wh_per_request: must be 0 or at least 2.2e-308 in magnitude"),
        ("energy_j_per_output_token: 1e-7", "case 'a'.energy_j_per_output_token: must be >= 1e-06"),
    ],
)
def test_item20_extreme_published_figures_are_refused(tmp_path, capsys, figure, needle):
    text = GOOD_CASES.replace("energy_j_per_output_token: 0.455", figure)
    code, _, err = cli(capsys, "validate", str(write(tmp_path, "c.yaml", text)), "--json")
    assert code == 2 and needle in one_line(err)
    assert needle in api_error(client.post("/validate", files={"file": ("c.yaml", text.encode())}), 422)["detail"]


def test_item20_a_ratio_that_is_not_finite_is_never_an_ok_row(monkeypatch):
    case = validation.parse_cases_text(GOOD_CASES)[0]
    monkeypatch.setattr(validation, "_predict_parameter", lambda case, config: (math.inf, []))
    from traitement.energy_model import load_energy_model

    row = validation.predict(case, "parameter", traitement.load_config(), load_energy_model())
    assert row["status"] == "skipped" and "not a finite positive number" in row["reason"]


def test_item20_json_output_is_never_nan_or_infinity(monkeypatch, capsys, tmp_path):
    import traitement.validation as module

    monkeypatch.setattr(module, "validate", lambda *args, **options: {"method": "x", "error_factor": math.inf, "methods": {}})
    code, out, err = cli(capsys, "validate", str(write(tmp_path, "c.yaml", GOOD_CASES)), "--json")
    assert code == 1 and out == ""
    assert one_line(err) == "interface.py: error: error_factor: the result is not a finite number; this is a bug, please report it with the input"
    assert non_finite_at({"a": [1.0, {"b": math.nan}]}) == "a[1].b" and non_finite_at({"a": [1.0, None, "x"]}) is None
    from genai_carbon.webapi.responses import json_response

    with pytest.raises(NonFiniteError, match=r"^total\.energy_kwh: the result is not a finite number"):
        json_response({"total": {"energy_kwh": math.inf}})


# --- item 21: compare --from-json ------------------------------------------------------------------------------

MEASURED = {
    "method": "measured",
    "region": "FRA",
    "input_tokens": 10,
    "output_tokens": 300,
    "energy_kwh": 1e-5,
    "carbon_gco2eq": 0.0005,
    "intensity_gco2eq_per_kwh": 50.0,
    "sensors": {"cpu": "x", "gpu": "none", "ram": "y"},
    "warnings": [],
}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (json.dumps({**MEASURED, "energy_kwh": "lots"}), "m.json: energy_kwh: must be a number (got 'lots')"),
        (json.dumps({**MEASURED, "sensors": "cpu"}), "m.json: sensors: must be a mapping"),
        (json.dumps({**MEASURED, "method": "hardware"}), "m.json: method: must be one of 'measured'"),
        ('{"method": "measured",\n "energy_kwh": }', "m.json: invalid JSON at line 2 column 16: Expecting value"),
        ("[" * 100_000, "m.json: invalid JSON: nested too deeply"),
        ("[1, 2]", "m.json: file: must be a mapping of field names to values"),
    ],
)
def test_item21_compare_from_json_with_a_bad_value(tmp_path, capsys, content, needle):
    path = write(tmp_path, "m.json", content)
    code, _, err = cli(capsys, "compare", "--model", "mistral-small", "--from-json", str(path))
    assert code == 2 and f"--from-json: {tmp_path}/{needle}" in one_line(err)


def test_item21_compare_from_a_good_saved_measurement(tmp_path, capsys):
    code, out, _ = cli(capsys, "compare", "--model", "mistral-small", "--from-json", str(write(tmp_path, "m.json", json.dumps(MEASURED))), "--json")
    assert code == 0
    assert json.loads(out)["local"]["energy_kwh"] == pytest.approx(1e-5, rel=1e-12)


# --- item 24: the multipart envelope does not count against the file's limit ----------------------------------


def _envelope(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_item24_a_batch_file_of_exactly_the_limit_is_accepted_and_one_byte_more_is_413(monkeypatch):
    monkeypatch.setenv("GENAI_CARBON_BATCH_MAX_BYTES", "20000")
    app = TestClient(create_app(), raise_server_exceptions=False)
    rows = b"input_tokens,output_tokens\n" + b"100,10\n" * 2000
    exact = rows + b"\n" * (20000 - len(rows))  # padded to the byte with blank lines
    assert len(exact) == 20000
    body, content_type = _envelope("log.csv", exact)
    response = app.post("/batch", content=body, headers={"content-type": content_type})
    assert response.status_code != 413, response.text[:300]
    body, content_type = _envelope("log.csv", exact + b"\n")
    assert api_error(app.post("/batch", content=body, headers={"content-type": content_type}), 413)["code"] == "upload-too-large"


@pytest.mark.parametrize("route", ["/validate", "/analytics"])
def test_item24_an_upload_of_exactly_the_limit_is_accepted_and_one_byte_more_is_413(route, monkeypatch):
    limit = 1_000_000 if route == "/validate" else analytics.MAX_UPLOAD_BYTES
    good = (GOOD_CASES if route == "/validate" else GOOD_ANALYTICS).encode()
    exact = good + b"#" + b"x" * (limit - len(good) - 2) + b"\n"
    assert len(exact) == limit
    if route == "/analytics":  # parsing 5 MiB of comment is slow; what is tested is the limit, not the parser
        monkeypatch.setattr(traitement, "parse_analytics", lambda data, name: traitement.analytics.parse_analytics(good, name))
    body, content_type = _envelope("f.yaml", exact)
    assert client.post(route, content=body, headers={"content-type": content_type}).status_code == 200
    body, content_type = _envelope("f.yaml", exact + b"#")
    assert api_error(client.post(route, content=body, headers={"content-type": content_type}), 413)["detail"].endswith(f"at most {limit:,} bytes")


# --- item 25: HEAD, repeated parameters, 503 paths, a file sent as text, disconnects ---------------------------


@pytest.mark.parametrize(
    "path", ["/health", "/regions", "/hardware", "/profiles", "/models", "/methods", "/equivalences", "/", "/openapi.json", "/static/app.js"]
)
def test_item25_head_answers_like_get_without_a_body(path):
    got, head = client.get(path), client.head(path)
    assert got.status_code == head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"] and head.headers["content-type"] == got.headers["content-type"]


def test_item25_head_on_a_post_route_is_405():
    assert client.head("/calculate").status_code == 405


def test_item25_a_repeated_query_parameter_is_an_error_unless_it_is_a_list():
    answer = api_error(client.post("/analytics?region=usa&region=france", files={"file": ("a.yaml", GOOD_ANALYTICS.encode())}), 422)
    assert answer == {"detail": "region: given more than once in the query; allowed: one value", "code": "repeated-parameter"}
    assert api_error(client.get("/regions?search=a&search=b"), 422)["code"] == "repeated-parameter"
    ok = client.post("/validate?method=parameter&method=model-aware", files={"file": ("c.yaml", GOOD_CASES.encode())})
    assert ok.status_code == 200 and list(ok.json()["methods"]) == ["parameter", "model-aware"]


def test_item25_a_503_names_the_file_not_the_servers_folder(config_dir):
    app = TestClient(create_app(), raise_server_exceptions=False)
    (config_dir / "models.yaml").write_text("models: [")
    fresh()
    answer = api_error(app.get("/models"), 503)
    assert answer["detail"].startswith("models.yaml: invalid YAML") and str(config_dir) not in answer["detail"] and "/" not in answer["detail"]
    assert without_folders("/srv/app/config/models.yaml: bad; ~/.config/x/hardware.yaml: bad; 5 gCO2e/kWh") == (
        "models.yaml: bad; hardware.yaml: bad; 5 gCO2e/kWh"
    )


@pytest.mark.parametrize("route", ["/analytics", "/validate"])
def test_item25_a_file_field_sent_as_text_is_one_line_without_type_names(route):
    answer = api_error(client.post(route, data={"file": "cases: []"}), 422)
    assert answer["detail"] == "file: must be a file (a multipart file field), not a text field; allowed: a file upload"


@pytest.mark.parametrize("path", ["/analytics", "/validate", "/batch", "/calculate"])
def test_item25_a_client_that_leaves_mid_body_logs_no_traceback(path, caplog):
    """The client sends part of its body, then disconnects: the app answers nobody and raises nothing (no ERROR traceback)."""
    import asyncio

    multipart = path != "/calculate"
    content_type = b"multipart/form-data; boundary=bnd" if multipart else b"application/json"
    first = b'--bnd\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nxxxx' if multipart else b'{"count": '
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "headers": [(b"content-type", content_type), (b"content-length", b"100000")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    messages = [{"type": "http.request", "body": first, "more_body": True}, {"type": "http.disconnect"}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    with caplog.at_level("INFO"):
        asyncio.run(api.app(scope, receive, send))
    assert not [record for record in caplog.records if record.levelname == "ERROR" or record.exc_info]
    assert sent and sent[0]["status"] in (400, 422)


# --- item 26: CSV cells, --plot and --csv paths, failed writes ---------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\\r=1"),
        ("a\nb", "a\\nb"),
        ("h100", "h100"),
    ],
)
def test_item26_csv_cells_a_spreadsheet_could_run_are_neutralised(cell, safe):
    assert safe_cell(cell) == safe


def test_item26_the_csv_writer_keeps_numbers_and_one_row_per_line(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"label": ["=cmd|' /C calc'!A0", "two\nlines", "ok"], "value": [-1.5, 2.0, 3.0]})
    frame["kind"] = pd.Categorical(["@x", "y", "z"])
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    lines = path.read_text().splitlines()
    assert lines == ["label,value,kind", "'=cmd|' /C calc'!A0,-1.5,'@x", "two\\nlines,2.0,y", "ok,3.0,z"]
    assert list(safe_frame(frame)["value"]) == [-1.5, 2.0, 3.0]


def test_item26_plot_writes_exactly_the_path_given(tmp_path, capsys):
    target = tmp_path / "chart.svg"
    code, _, _ = cli(capsys, "analytics", str(SAMPLE), "--plot", str(target))
    assert code == 0 and target.read_bytes().lstrip().startswith(b"<?xml") and sorted(p.name for p in tmp_path.iterdir()) == ["chart.svg"]
    code, _, err = cli(capsys, "analytics", str(SAMPLE), "--plot", str(tmp_path / "out"))
    assert code == 2 and "--plot: " in one_line(err) and "has no image extension" in err and ".png" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.svg"]  # neither out nor out.png


def test_item26_plot_formats_are_matplotlibs():
    from matplotlib.figure import Figure

    assert set(analytics.PLOT_FORMATS) <= set(Figure().canvas.get_supported_filetypes())


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["--plot", "/dev/full"], 2, "--plot: '/dev/full' has no image extension"),
        (["--plot", "/dev/full/x.png"], 1, "--plot: cannot write /dev/full/x.png"),
        (["--csv", "/dev/full"], 1, "--csv: cannot write /dev/full: No space left on device"),
        (["--csv", ""], 2, "--csv: must not be empty; allowed: a file name to write"),
        (["--plot", " "], 2, "--plot: must not be empty"),
    ],
)
def test_item26_bad_output_paths(capsys, argv, code, needle):
    got, out, err = cli(capsys, "analytics", str(SAMPLE), *argv)
    assert got == code and needle in one_line(err) and out == ""


def test_item26_a_failed_image_write_exits_1(tmp_path, capsys, monkeypatch):
    full = tmp_path / "full.png"
    full.symlink_to("/dev/full")
    code, _, err = cli(capsys, "analytics", str(SAMPLE), "--plot", str(full))
    assert code == 1 and one_line(err) == f"interface.py: error: --plot: cannot write {full}: No space left on device"


# --- item 28: -0.0, subnormal sizes, a clipped KV cache, a model too large ---------------------------------------


def test_item28_minus_zero_intensity_prints_zero(capsys):
    code, out, _ = cli(capsys, "--intensity", "-0.0")
    assert code == 0 and "grid 0 gCO2e/kWh" in out and "-0" not in out
    code, out, _ = cli(capsys, "--intensity", "-0.0", "--json")
    assert json.loads(out)["assumptions"]["carbon_intensity_gco2eq_per_kwh"] == 0 and '"carbon_gco2eq": 0.0' in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["analytics", str(SAMPLE), "--topic-chars", "1e-320"], "--topic-chars (topic_chars): must be 0 or at least 2.2e-308 in magnitude"),
        (["analytics", str(SAMPLE), "--topic-chars", "0.5"], "--topic-chars (topic_chars): must be >= 1"),
        (["analytics", str(SAMPLE), "--output-chars", "1e-300"], "--output-chars (output_chars): must be >= 1"),
        (["--pue", "1e-320"], "--pue (pue): must be 0 or at least 2.2e-308 in magnitude"),
    ],
)
def test_item28_subnormal_and_tiny_sizes_are_refused(capsys, argv, needle):
    code, _, err = cli(capsys, *argv)
    assert code == 2 and needle in one_line(err)


def test_item28_a_subnormal_size_in_the_config_is_refused(config_dir, capsys):
    text = (CONFIG_DIR / "config_model.yaml").read_text()
    data = yaml.safe_load(text)
    data["analytics"]["topic_chars"]["min"] = 1e-320
    (config_dir / "config_model.yaml").write_text(yaml.safe_dump(data))
    fresh()
    code, _, err = cli(capsys, "hardware")
    assert code == 1 and "analytics.topic_chars.min: must be 0 or at least 2.2e-308 in magnitude" in one_line(err)


def test_item28_a_kv_cache_clipped_by_memory_is_a_warning(capsys):
    code, out, _ = cli(capsys, "--active-params-b", "1", "--batch-size", "100000", "--json")
    assert code == 0
    warnings = [w for w in json.loads(out)["warnings"] if "KV cache" in w]
    assert len(warnings) == 1 and "does not fit in the memory left after the weights" in warnings[0] and "batch_size" in warnings[0]
    code, out, _ = cli(capsys, "--active-params-b", "1", "--batch-size", "4", "--json")
    assert not [w for w in json.loads(out)["warnings"] if "KV cache" in w]


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["--active-params-b", "100000"], "--active-params-b (active_params_b): the weights (200,000 GB in bf16) need 4,096 x h100, more than 1,024;"),
        (["--active-params-b", "10", "--total-params-b", "100000"], "--total-params-b (total_params_b): the weights"),
    ],
)
def test_item28_a_model_too_large_names_fields_the_user_can_set(capsys, argv, start):
    code, _, err = cli(capsys, *argv)
    line = one_line(err).removeprefix("interface.py: error: ")
    assert code == 2 and line.startswith(start) and "allowed: a smaller model" in line and "precision" in line and "hardware" in line


def test_item28_a_derived_setup_out_of_range_names_fields_the_user_can_set(monkeypatch, capsys):
    from traitement import energy_model

    def refuse(**values):
        raise InvalidInputError("cpu_power_w: must be <= 5,000 (got 22400.0)")

    monkeypatch.setattr(energy_model, "_setup_modele", refuse)
    code, _, err = cli(capsys, "--active-params-b", "70")
    line = one_line(err).removeprefix("interface.py: error: ")
    assert code == 2 and line.startswith("--active-params-b (active_params_b): the serving setup derived for this model is out of range (cpu_power_w:")
    assert "allowed: a smaller model (total_params_b, active_params_b, model), a lower precision (precision), another hardware preset" in line


# --- the shared readers: what each refuses -----------------------------------------------------------------------


def test_errors_are_calculator_errors_of_the_callers_kind(tmp_path):
    path = write(tmp_path, "x.yaml", b"\xff")
    with pytest.raises(ConfigError):
        traitement.config.read_yaml(path)
    with pytest.raises(analytics.AnalyticsFileError):
        traitement.read_analytics(path)
    assert issubclass(NonFiniteError, CalculatorError) and NonFiniteError.exit_code == 1


def test_uvicorn_limits_are_documented():
    text = (Path(__file__).resolve().parent.parent / "docs" / "reliability.md").read_text()
    for needle in ("--timeout-keep-alive", "--limit-concurrency", "LimitedHttpToolsProtocol", "GENAI_CARBON_BODY_TIMEOUT_S", "3,660", "1,000,000"):
        assert needle in text, needle
    assert Settings.model_fields["body_timeout_s"].default == 30.0
