"""The model layer's errors; the hierarchy is described in the package docstring."""

from __future__ import annotations


class ModelError(Exception):
    """Base class for the errors this package raises on purpose."""


class BackendUnavailable(ModelError):
    """The backend cannot answer: refused connection, HTTP error, missing model, bad output."""

    def __init__(self, backend: str, reason: str) -> None:
        self.backend = backend
        self.reason = reason
        super().__init__(f"{backend}: {reason}")


class BackendTimeout(BackendUnavailable):
    """The backend did not finish within the call's timeout."""

    def __init__(self, backend: str, seconds: float) -> None:
        super().__init__(backend, f"no answer within {seconds:g}s")
        self.seconds = seconds


class NoBackendAvailable(ModelError):
    """Every backend in the chain is down, open-circuited or failed on this call."""

    def __init__(self, attempts: dict[str, str]) -> None:
        self.attempts = attempts
        tried = "; ".join(f"{name}: {why}" for name, why in attempts.items()) or "none configured"
        super().__init__(f"no model backend answered ({tried})")


class ModelConfigError(ModelError):
    """The backend chain configuration is wrong; the message names the field and the fix."""
