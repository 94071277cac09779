"""The words people type for flags and regulators, in Portuguese and English."""

from __future__ import annotations

from bot.commands.words import fold
from bot.plan.model import Plan, RegulatoryFlag

FLAG_WORDS: dict[str, RegulatoryFlag] = {
    word: flag
    for flag, words in {
        RegulatoryFlag.PATIENT_SAFETY: (
            "patient-safety",
            "patient_safety",
            "patient",
            "safety",
            "seguranca-do-paciente",
            "seguranca-paciente",
            "seguranca",
            "paciente",
        ),
        RegulatoryFlag.PERSONAL_DATA_BREACH: (
            "personal-data-breach",
            "personal_data_breach",
            "personal-data",
            "data-breach",
            "dados-pessoais",
            "vazamento",
            "vazamento-de-dados",
            "lgpd",
        ),
        RegulatoryFlag.MEDICAL_PRACTICE_FAILURE: (
            "medical-practice-failure",
            "medical_practice_failure",
            "medical-practice",
            "pratica-medica",
            "falha-pratica-medica",
        ),
    }.items()
    for word in words
}


def parse_flag(text: str) -> RegulatoryFlag | None:
    return FLAG_WORDS.get(fold(text.strip()).replace(" ", "-"))


def parse_regulator(text: str, plan: Plan) -> str | None:
    """The plan's key for `anvisa`, `ANVISA` or the authority's name."""
    wanted = fold(text.strip())
    for key, rule in plan.regulatory.items():
        if wanted in (fold(key), fold(rule.authority)):
            return key
    return None
