"""Load config.yaml while remembering where each key and item was written.

Pydantic only sees plain values, so its error ``loc`` tuples say *what* is wrong but not *where*;
the SourceMap returned here turns them back into the line and column a group admin can find.

Decisions:

* Scalars resolve as with ``yaml.safe_load`` (YAML 1.1: ``yes``/``on`` are booleans, ``8:30``
  is the sexagesimal number 510), except that timestamps stay the text the admin wrote, so values
  are only dict, list, str, int, float, bool and None; pydantic parses dates from ISO text itself.
* Only standard tags are accepted; ``!!python/...``, ``!!binary``, ``!!set`` and custom tags are
  rejected, so loading can never build arbitrary objects.
* Anchors, aliases and merge keys (``<<``) work as in safe YAML. Every use of an alias gets its
  own copy of the values, and errors inside it point at the anchored text. Merged keys never
  override keys written in the mapping itself, and earlier merge sources win over later ones.
  An alias inside the block it names is rejected, and so are aliases that copy more than
  ``_MAX_VALUES`` values in all, which stops a "billion laughs" file from exhausting memory;
  values written out in the file count only against the file's size limit (loader.py).
* Values may nest at most ``MAX_DEPTH`` deep (see yaml_loaders.py): PyYAML composes
  recursively, and a file of 5,000 ``[`` would otherwise end in a RecursionError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.reader import ReaderError

from triggers.yaml_loaders import AliasNode, FastLoader, PythonLoader

_TAG_PREFIX = "tag:yaml.org,2002:"
_MAP_TAG = _TAG_PREFIX + "map"
_SEQ_TAG = _TAG_PREFIX + "seq"
_MERGE_TAG = _TAG_PREFIX + "merge"
# Kept as the written text: timestamps by choice, and a lone "<<" or "=" as a value (which
# safe_load rejects) because an admin writing them means the characters themselves.
_TEXT_TAGS = frozenset(_TAG_PREFIX + name for name in ("str", "timestamp", "merge", "value"))
_SCALAR_CONSTRUCTORS: dict[str, tuple[str, Callable[[Any, yaml.ScalarNode], Any]]] = {
    _TAG_PREFIX + "int": ("whole number", yaml.SafeLoader.construct_yaml_int),
    _TAG_PREFIX + "float": ("decimal number", yaml.SafeLoader.construct_yaml_float),
    _TAG_PREFIX + "bool": ("true/false value", yaml.SafeLoader.construct_yaml_bool),
    _TAG_PREFIX + "null": ("null value", yaml.SafeLoader.construct_yaml_null),
}
_MAX_VALUES = 200_000
_TOKEN_WORDS = {
    "block end": "the end of an indented block",
    "block mapping start": "the start of an indented mapping",
    "block sequence start": "the start of an indented list",
    "scalar": "a value",
    "stream end": "the end of the file",
    "document start": "a new document ('---')",
    "?": "another key",
}
_TOKEN = re.compile(r"'?<([a-z ]+)>'?|'(\?)'")

Key = str | int


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True, slots=True)
class YamlProblem:
    position: Position
    message: str


class YamlSourceError(Exception):
    """The file is not usable YAML; carries every problem found so the admin can fix all at once."""

    problems: tuple[YamlProblem, ...]

    def __init__(self, problems: Sequence[YamlProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(f"{problem.position}: {problem.message}" for problem in self.problems)


@dataclass(slots=True)
class _Entry:
    position: Position
    children: dict[Key, _Entry] | list[_Entry] | None = None


def _child(entry: _Entry, part: Key) -> _Entry | None:
    children = entry.children
    if isinstance(children, dict):
        return children.get(part)
    if isinstance(children, list) and isinstance(part, int) and 0 <= part < len(children):
        return children[part]
    return None


class SourceMap:
    """Where each key and list item of a loaded document was written."""

    __slots__ = ("_root",)

    def __init__(self, root: _Entry) -> None:
        self._root = root

    def position(self, loc: Sequence[Key]) -> Position:
        """Best position for a pydantic error ``loc``.

        Parts that name nothing at the current node are skipped: pydantic inserts union tags
        (``'checkin'``, ``'function-after[...]'``) into loc, and a missing field is best shown
        at the mapping that lacks it.
        """
        entry = self._root
        for part in loc:
            entry = _child(entry, part) or entry
        return entry.position

    def has(self, loc: Sequence[Key]) -> bool:
        entry: _Entry | None = self._root
        for part in loc:
            if entry is None:
                return False
            entry = _child(entry, part)
        return entry is not None


class _Rejected(Exception):
    """A node was reported as a problem; the caller goes on so that later problems show too."""


def _position(mark: Any) -> Position:  # any Mark: libyaml's, PyYAML's or ours
    return Position(1, 1) if mark is None else Position(mark.line + 1, mark.column + 1)


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG_PREFIX) if tag.startswith(_TAG_PREFIX) else tag


class _Builder:
    """Builds values and their positions in one pass, collecting problems instead of stopping."""

    def __init__(self, loader: SafeConstructor) -> None:
        self._loader = loader
        self._problems: list[YamlProblem] = []
        self._open: set[int] = set()  # ids of collections being built, to catch self-reference
        self._budget = _MAX_VALUES
        self._in_alias = 0  # how many aliases deep the value being built is

    def finish(self) -> None:
        if self._problems:
            # Anchored text used several times reports each of its problems once.
            unique = dict.fromkeys(self._problems)
            ordered = sorted(unique, key=lambda p: (p.position.line, p.position.column))
            raise YamlSourceError(ordered)

    def _report(self, at: Position, message: str) -> None:
        self._problems.append(YamlProblem(at, message))

    def build(self, node: yaml.Node, at: Position) -> tuple[Any, _Entry]:
        """Construct ``node``; ``at`` is what loc should point to (its key, or the item itself)."""
        if isinstance(node, AliasNode):
            if id(node.target) in self._open:
                self._report(at, f"alias *{node.anchor} is used inside the block it names")
                return None, _Entry(at)
            self._in_alias += 1
            try:
                return self.build(node.target, at)
            finally:
                self._in_alias -= 1
        if self._in_alias:  # only copies count: a long file written out is not an attack
            self._budget -= 1
            if self._budget < 0:
                self._report(at, f"aliases copy more than {_MAX_VALUES:,} values in this file")
                self.finish()  # raises: a problem was just reported
        try:
            if isinstance(node, yaml.ScalarNode):
                return self._scalar(node), _Entry(at)
            if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
                self._open.add(id(node))
                built = self._sequence(node, at)
            elif isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
                self._open.add(id(node))
                built = self._mapping(node, at)
            else:
                self._reject_tag(node)
        except _Rejected:
            return None, _Entry(at)
        self._open.discard(id(node))
        return built

    def _reject_tag(self, node: yaml.Node) -> NoReturn:
        self._report(
            _position(node.start_mark),
            f"the tag {_short_tag(node.tag)} is not allowed; config.yaml holds only text, "
            "numbers, true/false, lists and mappings",
        )
        raise _Rejected

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in _TEXT_TAGS:
            return node.value
        if node.tag not in _SCALAR_CONSTRUCTORS:
            self._reject_tag(node)
        kind, construct = _SCALAR_CONSTRUCTORS[node.tag]
        try:
            return construct(self._loader, node)
        except (ValueError, KeyError):
            self._report(_position(node.start_mark), f"{node.value!r} is not a valid {kind}")
            raise _Rejected from None

    def _sequence(self, node: yaml.SequenceNode, at: Position) -> tuple[Any, _Entry]:
        values: list[Any] = []
        entries: list[_Entry] = []
        for item in node.value:
            value, entry = self.build(item, _position(item.start_mark))
            values.append(value)
            entries.append(entry)
        return values, _Entry(at, entries)

    def _mapping(self, node: yaml.MappingNode, at: Position) -> tuple[Any, _Entry]:
        values: dict[Key, Any] = {}
        entries: dict[Key, _Entry] = {}
        merge_at: Position | None = None
        sources: list[tuple[dict[Key, Any], dict[Key, _Entry]]] = []
        for key_node, value_node in node.value:
            key_at = _position(key_node.start_mark)
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                if merge_at is None:
                    merge_at = key_at
                    sources = self._merge_sources(value_node, key_at)
                else:
                    self._report(
                        key_at, f"duplicate key '<<' (first defined on line {merge_at.line})"
                    )
                continue
            try:
                key = self._key(key_node, key_at)
            except _Rejected:
                continue
            if key in entries:
                first = entries[key].position.line
                self._report(key_at, f"duplicate key {key!r} (first defined on line {first})")
                continue
            values[key], entries[key] = self.build(value_node, key_at)
        for source_values, source_entries in sources:
            for key, value in source_values.items():
                if key not in entries:
                    values[key] = value
                    entries[key] = source_entries[key]
        return values, _Entry(at, entries)

    def _key(self, node: yaml.Node, at: Position) -> Key:
        target = node.target if isinstance(node, AliasNode) else node
        if not isinstance(target, yaml.ScalarNode):
            self._report(at, "a key must be a single word or number, not a list or mapping")
            raise _Rejected
        key = self._scalar(target)
        if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
            return key
        kind = (
            "true/false" if isinstance(key, bool) else "null" if key is None else "a decimal number"
        )
        written = repr(target.value) if target.value else "(empty)"
        self._report(
            at, f"key {written} is read as {kind}; keys must be text or whole numbers, so quote it"
        )
        raise _Rejected

    def _merge_sources(
        self, node: yaml.Node, at: Position
    ) -> list[tuple[dict[Key, Any], dict[Key, _Entry]]]:
        value, entry = self.build(node, at)
        candidates: list[tuple[Any, _Entry]] = [(value, entry)]
        if isinstance(value, list) and isinstance(entry.children, list):
            candidates = list(zip(value, entry.children, strict=True))
        sources = []
        for source_value, source_entry in candidates:
            if isinstance(source_value, dict) and isinstance(source_entry.children, dict):
                sources.append((source_value, source_entry.children))
            else:
                self._report(
                    source_entry.position,
                    "'<<' copies keys from a mapping (or a list of mappings), usually an alias "
                    "such as '<<: *defaults'",
                )
        return sources


def _plain_words(text: str) -> str:
    return _TOKEN.sub(lambda m: _TOKEN_WORDS.get(m.group(1) or m.group(2), m.group(0)), text)


def _syntax_problem(error: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    mark = error.problem_mark or error.context_mark
    message = _plain_words(error.problem or "invalid YAML")
    if error.context:
        context = _plain_words(error.context)
        if error.context_mark and mark and error.context_mark.line != mark.line:
            context += f" (line {error.context_mark.line + 1})"
        message = f"{context}: {message}"
    if mark and text[mark.index : mark.index + 1] == "\t":
        message += "; indent with spaces, YAML does not allow tabs here"
    return YamlProblem(_position(mark), message)


def _reader_problem(error: ReaderError, text: str) -> YamlProblem:
    index: int = error.position
    line_start = text.rfind("\n", 0, index) + 1
    at = Position(text.count("\n", 0, index) + 1, index - line_start + 1)
    return YamlProblem(at, f"character U+{error.character:04X} is not allowed: {error.reason}")


def load_yaml(text: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document safely; an empty document gives None, the caller decides."""
    loader: FastLoader | PythonLoader = FastLoader(text)
    try:
        root = loader.get_single_node()
    except (yaml.YAMLError, ValueError):
        # A broken file: parse it again in Python, whose messages and positions are clearer.
        try:
            loader = PythonLoader(text)  # checks for unprintable characters already
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            raise YamlSourceError([_syntax_problem(error, text)]) from error
        except ReaderError as error:
            raise YamlSourceError([_reader_problem(error, text)]) from error
    if root is None:
        return None, SourceMap(_Entry(Position(1, 1)))
    builder = _Builder(loader)
    try:
        value, entry = builder.build(root, _position(root.start_mark))
    except RecursionError:  # aliases inside aliases, each within the depth limit
        at = _position(root.start_mark)
        raise YamlSourceError([YamlProblem(at, "aliases nest values too deeply")]) from None
    builder.finish()
    return value, SourceMap(entry)
