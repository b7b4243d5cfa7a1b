"""Reading the files the tool is given, with bounds: size, encoding, YAML and JSON structure.

Every file a command or a route reads (the config files, the user's hardware
file, an analytics file, a cases file, a saved measurement) goes through these
functions, so each refusal is one line naming the file, and none of them can
make the process read without end, build an unbounded structure or raise a
traceback:

* :func:`read_bounded`: at most ``limit`` bytes (``/dev/zero``, a pipe or a
  huge file is refused once it passes the limit; a folder is named as such);
* :func:`decode_utf8`: UTF-8 only (a byte-order mark is allowed), else the
  file and the offending byte are named (UTF-16, latin-1, binary data);
* :func:`load_yaml`: YAML with the safe loader (C parser where available),
  refusing a key given twice in one mapping (two ``chatbots:`` lists would
  silently keep one), a value its tag cannot hold (``2025-02-30``,
  ``0000-01-01``, an integer of 5,000 digits), an alias that contains itself,
  and a document that aliases expand past :data:`MAX_YAML_VALUES` values
  ("billion laughs"), and reading numbers as JSON writes them (YAML 1.1's
  ``017``, ``1:30``, ``1_000``, ``0x1F`` stay text, which the schemas refuse);
  nesting is bounded by the parser (1,000 levels);
* :func:`load_json`: JSON with the line and column of a syntax error, and a
  one-line refusal of deep nesting or an integer too long to convert.

The error class is the caller's (``ConfigError`` for a config file, exit code 1;
``InvalidInputError`` and its kinds for a file given on the command line or
uploaded: exit code 2, HTTP 422 or 413).
"""

from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import CalculatorError

MAX_YAML_VALUES = 1_000_000
"""Most values (scalars, lists and mappings) a YAML document may hold once its aliases are expanded.

Without aliases a document holds fewer values than it has bytes, so the size
limit of each reader bounds it; aliases can multiply it (nine lists of nine
aliases are a billion values), and everything downstream walks the expanded
structure."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_KINDS = {
    "tag:yaml.org,2002:timestamp": "a calendar date",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:binary": "base64 data",
}
"""The scalar tags whose constructors raise plain Python errors on a value they cannot hold, and what they hold."""
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_YAML_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
"""An integer of a YAML file: as JSON writes it (``-12``; not ``017``, ``0x1F``, ``1_000``, ``1:30`` or ``+5``)."""
_YAML_FLOAT = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$|^-?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")
"""A real number of a YAML file: as JSON writes it (``2.5``, ``1e3``), or ``.inf``/``.nan``, which the schemas refuse by name."""
_SCALAR_ERRORS = (ValueError, OverflowError, KeyError, AttributeError, TypeError)
_SHOWN_CHARS = 40


def _shown(text: str) -> str:
    """A value as quoted in a message, cut to a few characters."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


# --- bytes ------------------------------------------------------------------------------


def read_bounded(path: Path | str, limit: int, error: type[CalculatorError]) -> bytes:
    """The bytes of ``path``, at most ``limit`` of them; anything else raises ``error`` in one line naming the file.

    A regular file larger than the limit is refused before it is read; a
    device, a pipe or a file that grows is read up to ``limit + 1`` bytes and
    refused there, so ``/dev/zero`` stops at once.
    """
    if "\x00" in str(path):  # only from a caller in process (a command line cannot hold it); open() raises ValueError
        raise error(f"{str(path)!r}: a file name cannot hold a NUL character; allowed: a path", code="invalid-path")
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise _too_large(path, limit, error)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{path}: file not found", code="file-not-found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder; allowed: a file", code="not-a-file") from None
    except OSError as problem:
        raise error(f"{path}: cannot read: {problem.strerror or problem}", code="cannot-read") from None
    if len(data) > limit:
        raise _too_large(path, limit, error)
    return data


def _too_large(path: Path, limit: int, error: type[CalculatorError]) -> CalculatorError:
    return error(f"{path}: larger than the limit of {limit:,} bytes; allowed: at most {limit:,} bytes", code="file-too-large")


def decode_utf8(data: bytes, where: str | Path, error: type[CalculatorError], code: str | None = None) -> str:
    """``data`` as UTF-8 text (a leading byte-order mark is dropped); other encodings raise ``error`` naming the file."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as problem:
        guess = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise error(
            f"{where}: not UTF-8 text{guess}: byte {problem.start:,} is 0x{data[problem.start]:02x}; allowed: a text file saved as UTF-8",
            code=code or "not-utf8",
        ) from None


def read_text(path: Path | str, limit: int, error: type[CalculatorError]) -> str:
    """:func:`read_bounded` then :func:`decode_utf8`."""
    return decode_utf8(read_bounded(path, limit, error), path, error)


# --- YAML --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _strict_loader() -> type:
    """PyYAML's safe loader (C parser where available) that refuses duplicate keys and wraps a value's ``ValueError``.

    Built on first use: ``import traitement`` does not import PyYAML.
    """
    import yaml
    from yaml.constructor import ConstructorError
    from yaml.nodes import ScalarNode

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._checked: set[int] = set()

        def flatten_mapping(self, node: Any) -> None:
            # Every mapping passes here before its pairs are merged (``<<``), so its own keys are seen as written.
            if id(node) not in self._checked:
                self._checked.add(id(node))
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                        continue
                    key = self.construct_object(key_node)
                    if key in seen:
                        raise ConstructorError(
                            None, None, f"duplicate key {_shown(str(key))} (first at line {seen[key] + 1}); each key may appear once", key_node.start_mark
                        )
                    seen[key] = key_node.start_mark.line
            super().flatten_mapping(node)

    def guarded(construct: Any, kind: str) -> Any:
        def construct_checked(loader: Any, node: Any) -> Any:
            try:
                return construct(loader, node)
            except _SCALAR_ERRORS as problem:  # 2025-02-30, 0000-01-01, !!int abc, an integer of 5,000 digits
                text = str(problem)
                reason = f" ({text.split(':', 1)[0] if 'digits' in text else text})" if isinstance(problem, (ValueError, OverflowError)) else ""
                raise ConstructorError(None, None, f"{_shown(str(node.value))} is not {kind}{reason}", node.start_mark) from None

        return construct_checked

    for tag, kind in _KINDS.items():
        StrictLoader.add_constructor(tag, guarded(StrictLoader.yaml_constructors[tag], kind))
    # Numbers are read as JSON writes them (the project's one rule, traitement.base): YAML 1.1's other forms stay
    # text, which the schemas refuse by name, instead of silently becoming another number: 017 (octal: 15),
    # 1:30 (base 60: 90), 1_000, 0x1F, 0b101, +5.
    StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    StrictLoader.add_implicit_resolver(_INT_TAG, _YAML_INT, list("-0123456789"))
    StrictLoader.add_implicit_resolver(_FLOAT_TAG, _YAML_FLOAT, list("-0123456789."))
    return StrictLoader


def _expanded_size(root: Any, cap: int) -> int | None:
    """Values in the document once aliases are expanded, counting up to just past ``cap``; ``None`` for an alias that contains itself."""
    from yaml.nodes import MappingNode, SequenceNode

    def children(node: Any) -> list[Any]:
        if isinstance(node, SequenceNode):
            return node.value
        if isinstance(node, MappingNode):
            return [part for pair in node.value for part in pair]
        return []

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(child)] for child in children(node))
            if size > cap:
                return size
            sizes[key] = size
        elif key in open_nodes:
            return None
        elif key not in sizes:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children(node) if id(child) not in sizes)
    return sizes[id(root)]


def load_yaml(text: str, where: str | Path, error: type[CalculatorError], code: str | None = None) -> Any:
    """Parse YAML text safely; any refusal raises ``error``: ``WHERE: invalid YAML at line N: what is wrong``."""
    import yaml

    loader = _strict_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # only anchors (and their aliases) make the structure larger than the text
            size = _expanded_size(node, MAX_YAML_VALUES)
            if size is None:
                raise error(f"{where}: invalid YAML: an alias refers to a value that contains it (a structure without end)", code=code)
            if size > MAX_YAML_VALUES:
                raise error(
                    f"{where}: too many values once the YAML aliases are expanded (more than {MAX_YAML_VALUES:,}); "
                    f"allowed: at most {MAX_YAML_VALUES:,} values",
                    code=code or "too-many-values",
                )
        return loader.construct_document(node)
    except yaml.YAMLError as problem_error:
        mark = getattr(problem_error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(problem_error, "problem", None) or str(problem_error)
        raise error(f"{where}: invalid YAML{line}: {' '.join(str(problem).split())}", code=code) from None
    except RecursionError:  # only the pure-Python parser recurses; the C one stops at 1,000 levels
        raise error(f"{where}: invalid YAML: nested too deeply", code=code) from None
    finally:
        loader.dispose()


# --- JSON --------------------------------------------------------------------------------


class DuplicateKeyError(ValueError):
    """A JSON object names one key twice (``{"count": 1, "count": 5}``): JSON parsers silently keep the last."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {_shown(key)} given more than once; allowed: each key once per object")
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of :func:`json.loads`: the object as a dict, or :class:`DuplicateKeyError` for a key given twice."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def load_json(text: str | bytes, where: str | Path, error: type[CalculatorError], code: str | None = None) -> Any:
    """Parse JSON; a refusal raises ``error``: ``WHERE: invalid JSON at line L column C: what is wrong``; a key given twice is refused."""
    import json

    try:
        return json.loads(text, object_pairs_hook=unique_keys)
    except DuplicateKeyError as problem:
        raise error(f"{where}: invalid JSON: {problem}", code=code) from None
    except json.JSONDecodeError as problem:
        raise error(f"{where}: invalid JSON at line {problem.lineno} column {problem.colno}: {problem.msg}", code=code) from None
    except RecursionError:
        raise error(f"{where}: invalid JSON: nested too deeply", code=code) from None
    except ValueError as problem:  # an integer longer than Python converts (4,300 digits)
        raise error(f"{where}: invalid JSON: {str(problem).split(':', 1)[0]}", code=code) from None
