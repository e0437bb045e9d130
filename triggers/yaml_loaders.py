"""The two YAML loaders behind ``triggers.yaml_source``: libyaml's, and PyYAML's for errors.

Both compose the same way: nesting stops at :data:`MAX_DEPTH` (PyYAML composes
recursively, and 5,000 ``[`` would end in a RecursionError), and every use of an alias
is a node of its own that remembers where it was written.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.cyaml import CParser  # type: ignore[attr-defined]
from yaml.resolver import Resolver

MAX_DEPTH = 64


class AliasNode(yaml.Node):
    """One use of an alias, so that ``- *anchor`` points at its own line, not the anchor's."""

    def __init__(self, target: yaml.Node, anchor: str, mark: Any) -> None:  # any Mark
        super().__init__(target.tag, target, mark, mark)
        self.target = target
        self.anchor = anchor


class _Mark:
    """Where a node starts or ends, and nothing else.

    PyYAML gives every node two full marks (each with its own attribute dict and a pointer
    into the text); a 10,000-rule config holds hundreds of thousands of them at once, which
    is most of what loading it costs in memory. Only the line and column are ever read.
    It stands in for ``yaml.Mark`` wherever PyYAML expects one (its stubs still say Mark).
    """

    __slots__ = ("column", "index", "line", "name")

    def __init__(self, name: str, index: int, line: int, column: int) -> None:
        self.name, self.index, self.line, self.column = name, index, line, column

    def get_snippet(self, indent: int = 4, max_length: int = 75) -> None:
        return None


class _Composing(Composer):
    """The composition both loaders share: a depth limit, and aliases that know their use."""

    def __init__(self) -> None:
        Composer.__init__(self)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:  # PyYAML composes recursively: stop before Python does
            raise ComposerError(
                None,
                None,
                f"values are nested more than {MAX_DEPTH} deep",
                self.peek_event().start_mark,  # type: ignore[attr-defined]
            )
        self._depth += 1
        try:
            return self._compose_node(parent, index)
        finally:
            self._depth -= 1

    def _compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            return super().compose_node(parent, index)
        event: yaml.AliasEvent = self.peek_event()  # type: ignore[attr-defined]
        target = super().compose_node(parent, index)
        # Always true for an alias; the stubs just cannot know it.
        assert target is not None and event.anchor and event.start_mark is not None
        return AliasNode(target, event.anchor, event.start_mark)


class PythonLoader(_Composing, yaml.SafeLoader):
    """Pure Python: slow, but its error messages are the ones admins are shown."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        _Composing.__init__(self)

    def get_mark(self) -> Any:  # a _Mark: the same fields the parser reads from yaml.Mark
        return _Mark(self.name, self.index, self.line, self.column)


class FastLoader(_Composing, CParser, SafeConstructor, Resolver):
    """libyaml's scanner and parser (several times faster) under the same composition."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        _Composing.__init__(self)
