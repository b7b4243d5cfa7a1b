"""Property tests (issue 15): random bytes and random nesting fed to every file reader and upload route of the tool.

Each reader (analytics file, cases file, the four config files, the user's
hardware file, a saved measurement for ``compare --from-json``) and each route
(``/analytics``, ``/validate``, ``/calculate``, ``/calculate-raw``) gets random
bytes, random text, YAML built from hostile fragments (aliases, merge keys,
tags, impossible dates, huge numbers, duplicate keys), deep nesting and alias
bombs, and must give a result or a one-line error of the calculator's own kind
(HTTP: a status under 500 and a one-line ``detail``); never another exception,
a hang or a large allocation. Examples are few and small, so the suite stays fast.
"""

from __future__ import annotations

import json
import signal
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import api
import traitement
from traitement import config, measurement, validation
from traitement.energy_model import EnergyModelFile
from traitement.errors import CalculatorError

TIME_BOUND_S = 10
"""An example taking longer than this is a hang (the slowest legitimate one takes well under a second)."""
MEMORY_BOUND_BYTES = 256 << 20
"""An example allocating more than this at its peak is unbounded work (the inputs are at most a few kB)."""

client = TestClient(api.app, raise_server_exceptions=False)
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` of the code under test can swallow it."""


@contextmanager
def bounded(seconds: float = TIME_BOUND_S) -> Iterator[None]:
    """Fail on a call that runs longer than ``seconds`` or allocates more than MEMORY_BOUND_BYTES at its peak."""

    def alarm(*_: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        assert peak < MEMORY_BOUND_BYTES, f"peak allocation {peak:,} bytes"
    finally:
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def result_or_one_line(call: Callable[[], Any]) -> None:
    """``call()`` returns, or raises one of the calculator's errors worded on one line; anything else fails."""
    with bounded():
        try:
            call()
        except CalculatorError as error:
            message = str(error)
            assert message and "\n" not in message and "Traceback" not in message, message


def answered_below_500(response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"detail", "code"} and "\n" not in body["detail"], body


# --- the inputs ---------------------------------------------------------------------------------------------------

FRAGMENTS = [
    "[", "]", "{", "}", ": ", ", ", "- ", "\n", "  ", "&a ", "&b ", "*a", "*b", "<<: ", "? ", "---\n", "...", "#", "'", '"', "|", ">", "\t", "!!int ",
    "!!float ", "!!timestamp ", "!!binary ", "!!set ", "!!python/object:os.system ", "!!str ", "genai", "chatbots", "cases", "id", "date", "count",
    "output_tokens", "boundary", "gpu", "energy_wh_per_request", "2025-02-30", "0000-01-01", "2025-01-06", "1700-01-01", "2260-01-01", "1e308", "1e-320",
    "-0.0", ".nan", ".inf", "9" * 400, "9" * 5000, "0x1F", "1_000", "yes", "null", "~", "\u00e9", "\ufeff", "\x00", "\x85", "\u2028",
]  # fmt: skip
"""Pieces of YAML that have broken a reader at least once: aliases, merge keys, tags, dates, huge and tiny numbers, odd characters."""


@st.composite
def yaml_soup(draw) -> bytes:
    return "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=60))).encode("utf-8", "surrogatepass")


SCALARS = [
    "2025-02-30", "0000-01-01", "2025-01-06", "1700-01-01", "!!int abc", "!!bool maybe", "!!float x", "!!timestamp soon", "!!binary '%%'",
    "9" * 5000, "9" * 400, "-9" * 400, "1e308", "1e-320", "-0.0", ".nan", "-.inf", "!!set {a, b}", "!!python/name:os.system", "[1, {a: b}]", "{}",
    "*a", "&a [1, 2]", "&a {x: 1}", "{<<: *a, x: 2}", "''", "' '", "~", "yes", "0o17", "0x_", "1:2:3", "x" * 300,
]  # fmt: skip
"""Scalars and small values that the YAML library or a schema chokes on."""
KEYS = ["genai", "chatbots", "completions", "translations", "cases", "id", "date", "count", "output_tokens", "boundary", "gpus", "hardware", "<<", "? [1]"]


FLOW = st.recursive(
    st.sampled_from(SCALARS),
    lambda children: st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
    | st.dictionaries(st.sampled_from(KEYS[:-2]), children, max_size=4).map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs.items()) + "}"),
    max_leaves=12,
)
"""Flow-style YAML (``{key: [value, ...]}``) whose leaves are hostile scalars: it parses, so the values get constructed."""


@st.composite
def yaml_lines(draw) -> bytes:
    """A mapping of flow values, a key often repeated: what reaches the constructor and the schemas."""
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=6))
    return "\n".join(f"{key}: {draw(FLOW)}" for key in keys).encode()


@st.composite
def deep(draw) -> bytes:
    depth = draw(st.integers(1, 5000))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ('{"a": ', "}"), ("- ", "")]))
    if opener == "- ":  # block nesting: each level one space deeper
        return "".join(" " * level + "-\n" for level in range(min(depth, 1500))).encode()
    return (opener * depth + "1" + closer * draw(st.integers(0, depth))).encode()


@st.composite
def alias_bomb(draw) -> bytes:
    levels, fan_out = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    lines = ['l0: &l0 ["x"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan_out) + "]" for i in range(1, levels)]
    return "\n".join(lines).encode()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@st.composite
def near_schema(draw) -> bytes:
    """YAML close to a real file: the right top-level keys with random values, so validation (not only parsing) is exercised."""
    key = draw(st.sampled_from(["genai", "cases", "gpus", "hardware", "regions", "models", "method"]))
    inner = draw(JSONISH)
    if key == "genai":
        value: Any = {"chatbots": draw(st.lists(st.fixed_dictionaries({"date": st.dates().map(str), "count": JSONISH}), max_size=4)), "extra": inner}
    elif key == "cases":
        value = draw(st.lists(st.fixed_dictionaries({"id": st.text(max_size=5), "output_tokens": JSONISH, "boundary": JSONISH}), max_size=4))
    else:
        value = {draw(st.text(max_size=8)): inner}
    return yaml.safe_dump({key: value}, allow_unicode=True).encode("utf-8", "surrogatepass")


TEXT = st.text(max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass"))
HUGE_NUMBER = st.integers(390, 5000).map(lambda digits: b'{"count": ' + b"9" * digits + b"}")
HOSTILE = st.one_of(st.binary(max_size=2048), TEXT, yaml_soup(), yaml_lines(), deep(), alias_bomb(), near_schema())
JSON_HOSTILE = st.one_of(st.binary(max_size=2048), deep(), JSONISH.map(lambda value: json.dumps(value).encode()), HUGE_NUMBER)


# --- the readers ---------------------------------------------------------------------------------------------------


@EXAMPLES
@given(HOSTILE)
def test_analytics_file(data):
    result_or_one_line(lambda: traitement.parse_analytics(data, "a.yaml"))


@EXAMPLES
@given(HOSTILE)
def test_cases_file(data):
    result_or_one_line(lambda: validation.parse_cases_text(data, "c.yaml"))


CONFIG_SCHEMAS = {
    "config.yaml": config.SiteFile,
    "config_model.yaml": config.ModelFile,
    "models.yaml": config.CatalogueFile,
    "energy_model.yaml": EnergyModelFile,
    "hardware.yaml": config.UserHardwareFile,
}


@EXAMPLES
@given(HOSTILE, st.sampled_from(sorted(CONFIG_SCHEMAS)))
def test_config_and_user_files(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("config") / name
    path.write_bytes(data)
    result_or_one_line(lambda: config.validate_file(CONFIG_SCHEMAS[name], config.read_yaml(path), path))


@EXAMPLES
@given(JSON_HOSTILE)
def test_saved_measurement(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("measure") / "m.json"
    path.write_bytes(data)
    result_or_one_line(lambda: measurement.load_measurement(path))


# --- the routes ----------------------------------------------------------------------------------------------------


@EXAMPLES
@given(HOSTILE, st.sampled_from(["/analytics", "/validate"]))
def test_upload_routes(data, route):
    with bounded():
        answered_below_500(client.post(route, files={"file": ("f.yaml", data)}))


@EXAMPLES
@given(JSON_HOSTILE, st.sampled_from(["/calculate", "/calculate-raw"]))
def test_estimate_routes(data, route):
    with bounded():
        answered_below_500(client.post(route, content=data, headers={"content-type": "application/json"}))


def test_the_bounds_catch_a_hang_and_a_large_allocation():
    """The two bounds above can fail: a sleep past the time bound and a large list are caught."""
    import time

    with pytest.raises(Hang):
        with bounded(0.2):
            time.sleep(5)
    with pytest.raises(AssertionError, match="peak allocation"):
        with bounded():
            block = [0] * (MEMORY_BOUND_BYTES // 8 + 1)
            del block


def test_a_reader_raising_another_exception_fails_the_property():
    with pytest.raises(ZeroDivisionError):
        result_or_one_line(lambda: 1 / 0)

