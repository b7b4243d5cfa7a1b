"""Hostile YAML files (analytics files, cases files): numbers YAML 1.1 reads as other numbers.

Found by the hardening sweep: PyYAML's safe loader follows YAML 1.1, where a
count written ``017`` is octal (15), ``1:30`` is base 60 (90), ``1_000`` is
1000 and ``0x1F`` is 31; the file's day then silently counted another number
of requests, and the command line (which reads numbers as JSON does) refused
the same text. Numbers in a YAML file are now read as JSON writes them; any
other form stays text, which the schema refuses by name.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import api
import interface
from traitement import files
from traitement.errors import InvalidInputError

client = TestClient(api.app, raise_server_exceptions=False)


def analytics_file(count: str) -> str:
    return f"""genai:
  chatbots:
  - date: 2025-01-06
    count: {count}
  completions:
  - {{date: 2025-01-06, count: 5}}
  translations: []
"""


@pytest.mark.parametrize("count", ["017", "1:30", "1_000", "0x1F", "0o17", "0b101", "+5", "1."])
def test_yaml_1_1_number_forms_are_refused_naming_the_field(tmp_path, capsys, count) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(analytics_file(count))
    code = interface.main(["analytics", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"genai.chatbots[0].count: must be an integer (got {count!r})" in err
    answer = client.post("/analytics", files={"file": ("a.yaml", analytics_file(count).encode())})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"a.yaml: genai.chatbots[0].count: must be an integer (got {count!r})")


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("-12", -12), ("0", 0), ("-0", 0), ("2.5", 2.5), ("1e3", 1000.0), ("-1.5E-3", -1.5e-3), ("'017'", "017"), ("1:30 pm", "1:30 pm")],
)
def test_json_numbers_still_read_as_numbers(text, value) -> None:
    got = files.load_yaml(f"a: {text}\n", "x.yaml", InvalidInputError)["a"]
    assert got == value and type(got) is type(value)


def test_json_number_counts_give_the_same_estimate(tmp_path, capsys) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(analytics_file("15"))
    assert interface.main(["analytics", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["requests"] == 20  # 15 chatbots + 5 completions


# --- JSON: a key given twice (parsers silently keep the last) ---------------------------------------------------------


def test_a_saved_measurement_with_a_key_twice_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"method": "measured", "method": "measured"}')
    code = interface.main(["compare", "--from-json", str(path), "--model", "gpt-4o"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "invalid JSON: key 'method' given more than once; allowed: each key once per object" in err


def test_load_json_refuses_a_key_twice_at_any_depth() -> None:
    with pytest.raises(InvalidInputError, match=r"^x.json: invalid JSON: key 'b' given more than once"):
        files.load_json('{"a": [{"b": 1, "b": 2}]}', "x.json", InvalidInputError)
    assert files.load_json('{"a": [{"b": 1}, {"b": 2}]}', "x.json", InvalidInputError) == {"a": [{"b": 1}, {"b": 2}]}


RAW = {
    "region": {"pue": 1.2, "carbon_intensity": 400},
    "hardware": {"power_gpu": 700, "eta_gpu": 0.6},
    "profile": {"input_size": 2000, "output_size": 500, "throughput": 50},
}


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        ("/calculate", '{"input_tokens": 5, "input_tokens": 7}', "input_tokens"),
        ("/calculate", '{"model": "gpt-4o", "count": 1, "region": "usa", "count": 1000}', "count"),
        ("/calculate-raw", json.dumps(RAW).replace('"pue": 1.2', '"pue": 1.2, "pue": 3'), "pue"),
    ],
)
def test_api_body_with_a_key_twice_is_422_naming_it(path, body, key) -> None:
    answer = client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {
        "detail": f"body: invalid JSON: key {key!r} given more than once; allowed: each key once per object",
        "code": "invalid-input",
    }


def test_api_body_with_each_key_once_still_answers() -> None:
    assert client.post("/calculate-raw", json=RAW).status_code == 200
    assert client.post("/calculate", json={"input_tokens": 5}).json()["input_tokens"] == 5


# --- a saved measurement whose figures contradict each other -----------------------------------------------------------

MEASURED = {
    "method": "measured",
    "region": "FRA",
    "input_tokens": 100,
    "output_tokens": 400,
    "energy_kwh": 0.003287795900070758,
    "carbon_gco2eq": 0.18424479444406522,
    "intensity_gco2eq_per_kwh": 56.03900000000001,
    "sensors": {"cpu": "CPU-load model"},
}


@pytest.mark.parametrize("carbon", [1e9, 0.0, 0.19])
def test_a_saved_measurement_whose_carbon_is_not_energy_times_intensity_is_refused(tmp_path, capsys, carbon) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({**MEASURED, "carbon_gco2eq": carbon}))
    code = interface.main(["compare", "--from-json", str(path), "--model", "gpt-4o", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"carbon_gco2eq ({carbon:g}) is not energy_kwh x intensity_gco2eq_per_kwh (0.184245)" in err


def test_a_saved_measurement_as_measure_writes_it_is_compared(tmp_path, capsys) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(MEASURED))
    assert interface.main(["compare", "--from-json", str(path), "--model", "gpt-4o", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["local"]["carbon_gco2eq"] == pytest.approx(0.18424479444406522, rel=1e-12)
    path.write_text(json.dumps({**MEASURED, "energy_kwh": 0, "carbon_gco2eq": 0}))
    assert interface.main(["compare", "--from-json", str(path), "--model", "gpt-4o", "--json"]) == 0


# --- cases files: the number rule ------------------------------------------------------------------------------------

CASE = {
    "id": "a", "active_params_b": "8", "n_gpu": "1", "hardware": "h100", "batch_size": "8", "output_tokens": "389", "boundary": "gpu",
    "energy_j_per_output_token": "0.455",
}  # fmt: skip


def cases_file(**fields: str) -> str:
    """A cases file of one case: ``CASE`` with ``fields`` (YAML text) replacing or adding values."""
    return "cases:\n  - {" + ", ".join(f"{key}: {value}" for key, value in {**CASE, **fields}.items()) + "}\n"


@pytest.mark.parametrize(
    ("field", "text", "problem"),
    [
        ("n_gpu", "yes", "a boolean is not allowed here (got True)"),
        ("pue", "true", "a boolean is not allowed here (got True)"),
        ("output_tokens", "'1_000'", "must be an integer (got '1_000')"),
        ("active_params_b", "'1_0'", "must be a number (got '1_0')"),
        ("gpu_power_w", "1.0e-320", "must be 0 or at least 2.2e-308 in magnitude"),
        ("parallelism", "{tensor: on}", "a boolean is not allowed here (got True)"),
    ],
)
def test_a_cases_file_follows_the_number_rule(tmp_path, capsys, field, text, problem) -> None:
    where = f"case 'a'.{field}" + (".tensor" if field == "parallelism" else "")
    path = tmp_path / "c.yaml"
    path.write_text(cases_file(**{field: text}))
    code = interface.main(["validate", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"c.yaml: {where}: {problem}" in err
    answer = client.post("/validate", files={"file": ("c.yaml", cases_file(**{field: text}).encode())})
    assert answer.status_code == 422 and answer.json()["detail"].startswith(f"c.yaml: {where}: {problem}")


def test_a_cases_file_with_numbers_as_text_is_read_as_the_cli_reads_them(tmp_path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(cases_file(n_gpu="'1'", batch_size="'8.0'"))
    assert interface.main(["validate", str(path), "--json"]) == 0


def test_every_input_schema_follows_the_number_rule() -> None:
    """Each int or float field of the schemas that read input (bodies, queries, files, config) passes through the number rule
    (traitement.base.INTEGER / NUMBER): no boolean, no 1_000, no subnormal. Out of it: answer schemas (they are written,
    not read), the settings (their own digits-only rule), the data pack's tables (generated and checked by
    scripts/build_data_pack.py; a validator per value would slow every one-off estimate) and an analytics count (strict)."""
    import importlib
    import pkgutil
    import typing

    from pydantic import BaseModel

    import genai_carbon
    import traitement
    from traitement.base import parse_integer, parse_real

    for package in (traitement, genai_carbon):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)

    def numbers(annotation, metadata):
        if typing.get_origin(annotation) is typing.Annotated:
            inner, *more = typing.get_args(annotation)
            yield from numbers(inner, [*metadata, *more])
        elif annotation in (int, float):
            yield metadata
        else:
            for argument in typing.get_args(annotation):
                yield from numbers(argument, metadata)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    answers = ("traitement.accounting.Report.", "traitement.accounting.Figure.", "traitement.accounting.Illustration.")  # the report's answer
    exempt = ("genai_carbon.webapi.responses.", "traitement.settings.", "traitement.reference.", "traitement.analytics.DailyCount.", *answers)
    missing = []
    for cls in set(subclasses(BaseModel)):
        for name, info in cls.model_fields.items():
            where = f"{cls.__module__}.{cls.__qualname__}.{name}"
            if not cls.__module__.startswith(("traitement", "genai_carbon")) or where.startswith(exempt):
                continue
            for metadata in numbers(info.annotation, list(info.metadata)):
                if not {parse_integer, parse_real} & {getattr(item, "func", None) for item in metadata}:
                    missing.append(where)
    assert sorted(missing) == []


# --- the user's hardware file (GENAI_CARBON_USER_CONFIG) ----------------------------------------------------------------

PROFILE = """hardware:
  my-box:
    description: a measured machine
    gpu: h100
    n_gpu: {n_gpu}
    gpu_utilisation: 1.0
    cpu_power_w: 0.0
    cpu_utilisation: 0.0
    prefill_tokens_per_s: 1000
    decode_tokens_per_s: {decode}
    batch_size: 1.0
    server_embodied_kgco2eq: 0.0
    lifetime_years: 4.0
    source: measured
"""


@pytest.mark.parametrize(
    ("n_gpu", "decode", "expected"),
    [
        ("010", "50", "hardware.my-box.n_gpu: must be an integer (got '010'); allowed: number of GPUs"),
        ("1", "0", "hardware.my-box.decode_tokens_per_s: value must be >= 0.01 (got 0); allowed: generation speed"),
    ],
)
def test_a_bad_user_hardware_file_is_one_line_naming_the_value_once(tmp_path, capsys, monkeypatch, n_gpu, decode, expected) -> None:
    path = tmp_path / "hardware.yaml"
    path.write_text(PROFILE.format(n_gpu=n_gpu, decode=decode))
    monkeypatch.setenv("GENAI_CARBON_USER_CONFIG", str(path))
    code = interface.main(["--hardware", "my-box", "--json"])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1
    assert f"hardware.yaml: {expected}" in err and err.count("(got ") == 1


def test_a_good_user_hardware_file_is_used(tmp_path, capsys, monkeypatch) -> None:
    path = tmp_path / "hardware.yaml"
    path.write_text(PROFILE.format(n_gpu="2", decode="50"))
    monkeypatch.setenv("GENAI_CARBON_USER_CONFIG", str(path))
    assert interface.main(["--hardware", "my-box", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["assumptions"]["n_gpu"] == 2


def test_a_case_whose_two_published_figures_disagree_is_refused(tmp_path, capsys) -> None:
    """Only the per-token figure was compared: a per-request figure 3,600 times larger was silently ignored."""
    text = cases_file(output_tokens="5", energy_j_per_output_token="1", energy_wh_per_request="5")
    path = tmp_path / "c.yaml"
    path.write_text(text)
    code = interface.main(["validate", str(path), "--json"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    expected = (
        "case 'a': energy_wh_per_request (5) disagrees with energy_j_per_output_token x output_tokens / 3600 (0.00138889); "
        "allowed: both within 1% (their rounding), or only one of them"
    )
    assert expected in err
    answer = client.post("/validate", files={"file": ("c.yaml", text.encode())})
    assert answer.status_code == 422 and expected in answer.json()["detail"]


def test_two_figures_that_agree_to_their_rounding_are_accepted(tmp_path) -> None:
    # the shipped case mlenergy-v3-gpt-oss-20b-batch-64: 0.102 J x 2,091 tokens / 3,600 = 0.05925 Wh, published 0.0595 (0.43 % apart)
    path = tmp_path / "c.yaml"
    path.write_text(cases_file(output_tokens="2091", energy_j_per_output_token="0.102", energy_wh_per_request="0.0595"))
    assert interface.main(["validate", str(path), "--json"]) == 0
