"""Label matchers written as Alertmanager writes them: `alertname="MacStudioDown"`,
`environment=~"prod|mvp"`, `team!="lab"`. A matcher set is a comma-separated list that must
all match; a playbook lists several sets, any of which triggers it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

_MATCHER = re.compile(
    r"""\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*
    (?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^,"]*?))\s*(?:,|$)""",
    re.VERBOSE,
)


class Op(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        # A missing label reads as the empty string, as in Alertmanager.
        given = labels.get(self.name, "")
        if self.op is Op.EQ:
            return given == self.value
        if self.op is Op.NE:
            return given != self.value
        found = re.fullmatch(self.value, given) is not None
        return found if self.op is Op.RE else not found


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """`a="x", b=~"y|z"` as matchers; ValueError names the part that is not one."""
    matchers: list[Matcher] = []
    position = 0
    stripped = text.strip()
    while position < len(stripped):
        found = _MATCHER.match(stripped, position)
        if found is None or found.end() == position:
            raise ValueError(
                f"not a label matcher at {stripped[position:][:40]!r}: write "
                'name="value", name!="value", name=~"regex" or name!~"regex"'
            )
        op = Op(found["op"])
        value = found["quoted"] if found["quoted"] is not None else (found["bare"] or "")
        value = re.sub(r"\\(.)", r"\1", value)
        if op in (Op.RE, Op.NRE):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{found['name']}: bad regular expression: {exc}") from exc
        matchers.append(Matcher(found["name"], op, value))
        position = found.end()
    if not matchers:
        raise ValueError("empty matcher set")
    return tuple(matchers)


def matches_all(matchers: tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
