"""The errors the domain raises, each carrying a message key for the user.

DomainError
 ├─ IncidentNotFound      the reference names no incident
 ├─ IllegalTransition     the lifecycle forbids the move from the current state
 ├─ SeverityUnchanged     an escalation or downgrade that changes nothing
 ├─ NotAuthorised         the person's role does not allow the command
 └─ AmbiguousIncident     no incident named and the conversation has none or several

Each error has `key` (a message-catalog key) and `params` for the text; the command
layer turns them into a reply in the user's language.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    key = "error.domain"

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(f"{self.key}: {params}")


class IncidentNotFound(DomainError):
    key = "error.not_found"


class IllegalTransition(DomainError):
    key = "error.illegal_transition"


class SeverityUnchanged(DomainError):
    key = "error.severity_unchanged"


class NotAuthorised(DomainError):
    key = "error.not_authorised"


class AmbiguousIncident(DomainError):
    key = "error.ambiguous_incident"
