"""The privacy gate: patient data out of text that leaves the premises or reaches a log,
secrets out of every prompt.

Redacted: CPF (formatted always; 11 bare digits when the check digits are valid), CNS
(15 digits, valid), Brazilian phone numbers, e-mail addresses, medical record numbers
(prontuário/MRN; patterns configurable) and names after configured words ("paciente
Maria Souza"). Each becomes a tag such as [CPF] so the text still reads. Secrets (values
from settings and the environment, and anything shaped like a token or password) become
[SECRET] in every prompt, whichever backend it goes to.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jamie.models.base import Message

DEFAULT_NAME_PREFIXES = ("paciente", "patient", "pcte", "pct", "sr", "sra", "senhor", "senhora")
DEFAULT_MRN_PATTERNS = (
    r"(?i)\b(?:prontu[aá]rio|MRN|registro (?:m[eé]dico|hospitalar)|RGH)\b"
    r"\s*(?:n[º°o.]*\s*)?[:#]?\s*(?P<id>[A-Z]{0,3}-?\d[\d./-]{3,}\d)",
)

_CPF_FORMATTED = re.compile(r"(?<!\d)\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)")
_CNS_SPACED = re.compile(r"(?<!\d)[1-2789]\d{2}[ .]\d{4}[ .]\d{4}[ .]\d{4}(?!\d)")
_DIGIT_RUN = re.compile(r"(?<![\d.-])\d{11}(?:\d{4})?(?![\d-])")
_EMAIL = re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_PHONE = re.compile(
    r"(?:\+55[\s.-]?)?\(\d{2}\)[\s.-]?9?\d{4}[\s.-]?\d{4}(?!\d)"  # (11) 91234-5678
    r"|\+55[\s.-]?\d{2}[\s.-]?9?\d{4}[\s.-]?\d{4}(?!\d)"  # +55 11 91234-5678
    r"|(?<![\w-])\d{2}\s9\d{4}-\d{4}(?!\d)"  # 11 91234-5678
    r"|(?<![\w:-])(?:9\d{4}|[2-5]\d{3})-\d{4}(?![\d-])"  # 91234-5678, 3456-7890
)
_NAME_WORD = r"[A-ZÀ-Ý][a-zà-ÿ']+"
_NAME_LINK = r"(?:\s+(?:d[aeo]s?|e)\s+|\s+)"

_SECRET_SHAPES = re.compile(
    r"\bxox[abposr]-[\w-]{8,}"
    r"|\bxapp-[\w-]{8,}"
    r"|\bsk-[A-Za-z0-9_-]{16,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{8,})"
    r"|(?i:\b(?:password|passwd|senha|secret|token|api[_-]?key)\b\s*[:=]\s*\S+)"
)
_SECRET_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY)$")
SECRET = "[SECRET]"


def cpf_valid(digits: str) -> bool:
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for position in (9, 10):
        total = sum(n * (position + 1 - i) for i, n in enumerate(numbers[:position]))
        if (total * 10) % 11 % 10 != numbers[position]:
            return False
    return True


def cns_valid(digits: str) -> bool:
    """The Cartão Nacional de Saúde check: weights 15..1, sum divisible by 11."""
    if len(digits) != 15 or not digits.isdigit() or digits[0] not in "12789":
        return False
    return sum(int(d) * (15 - i) for i, d in enumerate(digits)) % 11 == 0


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    name_prefixes: tuple[str, ...] = DEFAULT_NAME_PREFIXES
    mrn_patterns: tuple[str, ...] = DEFAULT_MRN_PATTERNS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RedactionPolicy:
        """JAMIE_REDACT_NAME_PREFIXES (comma-separated words) and JAMIE_REDACT_MRN (regexes,
        one per line, each with a named group `id`, or none to redact the whole match)
        extend the defaults."""
        env = os.environ if env is None else env
        prefixes = [p.strip() for p in env.get("JAMIE_REDACT_NAME_PREFIXES", "").split(",")]
        patterns = [p.strip() for p in env.get("JAMIE_REDACT_MRN", "").splitlines()]
        return cls(
            name_prefixes=DEFAULT_NAME_PREFIXES + tuple(p for p in prefixes if p),
            mrn_patterns=DEFAULT_MRN_PATTERNS + tuple(p for p in patterns if p),
        )


class Redactor:
    """Patient data to tags. Idempotent: redacting redacted text changes nothing."""

    def __init__(self, policy: RedactionPolicy | None = None) -> None:
        policy = policy or RedactionPolicy()
        self._mrn = [re.compile(p) for p in policy.mrn_patterns]
        words = "|".join(re.escape(p) for p in policy.name_prefixes)
        self._names = re.compile(
            rf"(?i:\b(?:{words})\.?)\s+(?P<name>{_NAME_WORD}(?:{_NAME_LINK}{_NAME_WORD}){{0,4}})"
        )

    def __call__(self, text: str) -> str:
        text = _EMAIL.sub("[EMAIL]", text)
        for pattern in self._mrn:
            text = pattern.sub(_mrn_tag, text)
        text = _CPF_FORMATTED.sub("[CPF]", text)
        text = _CNS_SPACED.sub(_spaced_cns, text)
        text = _DIGIT_RUN.sub(_bare_document, text)
        text = _PHONE.sub("[PHONE]", text)
        return self._names.sub(_name_tag, text)


def _mrn_tag(match: re.Match[str]) -> str:
    if "id" not in match.re.groupindex:
        return "[MRN]"
    start, end = match.span("id")
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + "[MRN]" + whole[end - offset :]


def _spaced_cns(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CNS]" if cns_valid(digits) else match.group(0)


def _bare_document(match: re.Match[str]) -> str:
    digits = match.group(0)
    if len(digits) == 11 and cpf_valid(digits):
        return "[CPF]"
    if len(digits) == 15 and cns_valid(digits):
        return "[CNS]"
    return digits


def _name_tag(match: re.Match[str]) -> str:
    start = match.start("name") - match.start()
    return match.group(0)[:start] + "[NAME]"


class SecretScrubber:
    """Known secret values and token-shaped strings to [SECRET]."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, extra: Iterable[str] = ()
    ) -> SecretScrubber:
        env = os.environ if env is None else env
        found = [value for key, value in env.items() if _SECRET_ENV.search(key.upper())]
        return cls([*found, *extra])

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, SECRET)
        return _SECRET_SHAPES.sub(SECRET, text)


class PrivacyGate:
    """What every prompt and every log line passes through."""

    def __init__(
        self, redactor: Redactor | None = None, scrubber: SecretScrubber | None = None
    ) -> None:
        self.redact = redactor or Redactor()
        self.scrub = scrubber or SecretScrubber.from_env()

    def outbound(self, messages: Sequence[Message], *, remote: bool) -> list[Message]:
        from jamie.models.base import Message

        cleaned = []
        for message in messages:
            text = self.scrub(message.content)
            if remote:
                text = self.redact(text)
            cleaned.append(Message(message.role, text))
        return cleaned

    def for_log(self, text: str) -> str:
        return self.redact(self.scrub(text))


class RedactingFilter(logging.Filter):
    """Attached to a log handler: every record is redacted before it is written."""

    def __init__(self, gate: PrivacyGate) -> None:
        super().__init__()
        self._gate = gate

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = self._gate.for_log(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
