"""Free text between Portuguese and English: protected terms survive, a lost marker means
the original (marked with its language), and the plan's templates come out bilingual."""

from __future__ import annotations

import pytest

from bot.commands.ports import Translation
from bot.i18n.notices import NoticeKind, compose_notice
from jamie.models import ChainPolicy, ModelChain
from jamie.translate import Translator, mask
from tests.jamie.doubles_models import ScriptedBackend

UPDATE = (
    "O INC-0042 continua P0: o fallback no GCP está ativo na UTI desde 14:32, latência 120 ms."
)


def test_ids_severities_services_times_and_numbers_are_masked() -> None:
    masked = mask(UPDATE)

    assert masked.originals == ("INC-0042", "P0", "GCP", "UTI", "14:32", "120 ms")
    assert "INC-0042" not in masked.text and "⟦1⟧" in masked.text


def test_a_translation_that_loses_or_invents_a_marker_is_refused() -> None:
    masked = mask("INC-0001 em P1")

    assert masked.restore("⟦1⟧ is at ⟦2⟧") == "INC-0001 is at P1"
    assert masked.restore("⟦1⟧ is at P1") is None
    assert masked.restore("⟦1⟧ ⟦2⟧ ⟦3⟧") is None


def translator(reply: str) -> Translator:
    chain = ModelChain([ScriptedBackend("cloud", [reply], remote=True)],
                       policy=ChainPolicy(call_timeout=2))  # fmt: skip
    return Translator(chain)


async def test_a_good_translation_restores_every_protected_term() -> None:
    reply = (
        "⟦1⟧ is still ⟦2⟧: the ⟦3⟧ fallback has been active "
        + "in the ⟦4⟧ since ⟦5⟧, latency ⟦6⟧."
    )

    result = await translator(reply).translate(UPDATE, target_language="en")

    assert result == Translation(
        "INC-0042 is still P0: the GCP fallback has been active in the UTI since 14:32, "
        "latency 120 ms.", "en", True, "pt-BR", "cloud",
    )  # fmt: skip


async def test_a_mangled_translation_returns_the_original_with_its_language() -> None:
    result = await translator("The incident continues.").translate(UPDATE, target_language="en")

    assert result == Translation(UPDATE, "pt-BR", False, "pt-BR", None)


async def test_text_already_in_the_target_language_is_left_as_it_is() -> None:
    text = "The pool is exhausted again."

    result = await translator("unused").translate(text, target_language="en", source_language="en")

    assert (result.text, result.translated) == (text, True)


FIELDS = {
    "ref": "INC-0042", "impact": "UTI sem o assistente de IA", "primary": "fora do ar",
    "backup": "GCP ativo", "patient_care": "atrasos na triagem", "actions": "- fallback no GCP",
    "next_update": "14:40", "sre_contact": "Primary SRE",
}  # fmt: skip


async def test_the_p0_alert_template_marks_untranslated_free_text() -> None:
    notice = await compose_notice(NoticeKind.P0_ALERT, "en", FIELDS)

    subject = "🚨 CRITICAL EMERGENCY: Medical AI Platform — P0 incident INC-0042"
    assert notice.subject == subject
    assert "Severity: P0 - Apocalypse" in notice.body
    assert "Impact: [Portuguese] UTI sem o assistente de IA" in notice.body
    assert "Next update: 14:40" in notice.body


async def test_the_p0_alert_template_in_portuguese_needs_no_translation() -> None:
    notice = await compose_notice(NoticeKind.P0_ALERT, "pt-BR", FIELDS)

    assert "Impacto: UTI sem o assistente de IA" in notice.body
    assert notice.body.startswith("AÇÃO IMEDIATA NECESSÁRIA")


async def test_free_text_is_translated_when_a_translator_answers() -> None:
    async def translate(text: str, language: str) -> Translation:
        return Translation(f"EN({text})", language, True, "pt-BR", "cloud")

    fields = {"subject": "Falha no Mac Studio", "ref": "INC-0042", "duration": "2h",
              "root_cause": "fonte queimada", "summary": "fonte trocada",
              "report_due": "em 48h", "prevention": "fonte redundante"}  # fmt: skip

    notice = await compose_notice(NoticeKind.RESOLUTION, "en", fields, translate)

    assert notice.subject == "RESOLVED: EN(Falha no Mac Studio)"
    assert "Root cause: EN(fonte queimada)" in notice.body
    assert "Duration: 2h" in notice.body


@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize("language", ["pt-BR", "en"])
async def test_every_template_renders_in_both_languages(kind: NoticeKind, language: str) -> None:
    fields = {name: "x" for name in (
        "ref", "impact", "primary", "backup", "patient_care", "actions", "next_update",
        "sre_contact", "systems", "degradation", "departments", "users", "mitigation", "eta",
        "workarounds", "subject", "duration", "root_cause", "summary", "report_due",
        "prevention",
    )}  # fmt: skip

    notice = await compose_notice(kind, language, fields)

    assert notice.subject and notice.body and "{" not in notice.body
