"""The incident lifecycle: declared -> acknowledged -> mitigated -> resolved, and reopen.

A move that skips a stage is allowed when it goes forward (a responder may mitigate an
incident nobody acknowledged): the skipped stage's timestamp is filled with the same moment,
so SLA reports never see a resolved incident that was never acknowledged.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.enums import Status
from bot.domain.errors import IllegalTransition


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    REOPEN = "reopen"


_ALLOWED: dict[Action, frozenset[Status]] = {
    Action.ACKNOWLEDGE: frozenset({Status.DECLARED}),
    Action.MITIGATE: frozenset({Status.DECLARED, Status.ACKNOWLEDGED}),
    Action.RESOLVE: frozenset({Status.DECLARED, Status.ACKNOWLEDGED, Status.MITIGATED}),
    Action.REOPEN: frozenset({Status.RESOLVED}),
}

_TARGET: dict[Action, Status] = {
    Action.ACKNOWLEDGE: Status.ACKNOWLEDGED,
    Action.MITIGATE: Status.MITIGATED,
    Action.RESOLVE: Status.RESOLVED,
    Action.REOPEN: Status.ACKNOWLEDGED,
}


def next_status(current: Status, action: Action) -> Status:
    """The status after `action`, or IllegalTransition naming both."""
    if current not in _ALLOWED[action]:
        raise IllegalTransition(action=action.value, status=current.value)
    return _TARGET[action]


def allowed_actions(current: Status) -> list[Action]:
    return [action for action, sources in _ALLOWED.items() if current in sources]
