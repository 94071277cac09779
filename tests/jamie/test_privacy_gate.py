"""The privacy gate on Brazilian formats: what leaves the premises or reaches a log carries
no patient data, and no prompt carries a secret."""

from __future__ import annotations

import logging

import pytest

from jamie.models import Message
from jamie.privacy import (
    PrivacyGate,
    RedactingFilter,
    RedactionPolicy,
    Redactor,
    SecretScrubber,
    cns_valid,
    cpf_valid,
)

VALID_CPF = "52998224725"
VALID_CNS = "700000000000005"
VALID_CNS_PROVISIONAL = "898000000000002"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CPF 529.982.247-25 na ficha", "CPF [CPF] na ficha"),
        ("cpf 111.444.777-35", "cpf [CPF]"),
        (f"documento {VALID_CPF}", "documento [CPF]"),
        ("pedido 12345678901 do estoque", "pedido 12345678901 do estoque"),
        (f"CNS {VALID_CNS}", "CNS [CNS]"),
        (f"cartão SUS {VALID_CNS_PROVISIONAL}", "cartão SUS [CNS]"),
        ("CNS 700 0000 0000 0005", "CNS [CNS]"),
        ("lote 123456789012345", "lote 123456789012345"),
        ("ligar para +55 (11) 91234-5678", "ligar para [PHONE]"),
        ("ou (21) 3456-7890", "ou [PHONE]"),
        ("celular 11 98765-4321", "celular [PHONE]"),
        ("+55 11 90000-0001 é o plantão", "[PHONE] é o plantão"),
        ("ramal 91234-5678", "ramal [PHONE]"),
        ("escreva para ana.souza@hospital.org.br", "escreva para [EMAIL]"),
        ("prontuário nº 1234567 no leito 4", "prontuário nº [MRN] no leito 4"),
        ("MRN: AB-99881", "MRN: [MRN]"),
        ("paciente Maria da Silva Souza na UTI", "paciente [NAME] na UTI"),
        ("Patient John Smith reported it", "Patient [NAME] reported it"),
        ("a Sra. Ana Lima ligou", "a Sra. [NAME] ligou"),
    ],
)
def test_patient_data_becomes_a_tag(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "INC-0042 P0 declared at 2026-03-02 16:11 (latency 100 ms, 500 tps, port 8080-8090)",
        "Mac Studio M3 Ultra down; GCP fallback active; RTO 30 minutes",
        "o paciente relatou lentidão",
    ],
)
def test_operational_text_is_left_alone(text: str) -> None:
    assert Redactor()(text) == text


def test_check_digits_decide_for_bare_numbers() -> None:
    assert (cpf_valid(VALID_CPF), cpf_valid("52998224724"), cpf_valid("11111111111")) == (
        True, False, False,
    )  # fmt: skip
    assert (cns_valid(VALID_CNS), cns_valid("700000000000006"), cns_valid("300000000000003")) == (
        True, False, False,
    )  # fmt: skip


def test_configured_patterns_extend_the_defaults() -> None:
    policy = RedactionPolicy.from_env(
        {"JAMIE_REDACT_NAME_PREFIXES": "leito", "JAMIE_REDACT_MRN": r"\bHC-(?P<id>\d{6})\b"}
    )

    assert Redactor(policy)("leito Joana Prado, ficha HC-123456") == "leito [NAME], ficha HC-[MRN]"


def test_secrets_from_settings_and_token_shapes_never_reach_a_prompt() -> None:
    scrub = SecretScrubber.from_env({"SLACK_SIGNING_SECRET": "s3cr3t-value-42", "HOME": "/root"})

    text = scrub(
        "signing s3cr3t-value-42, bot xoxb-123456789-abcdefgh, api_key=abc123, "
        "Authorization: Bearer abcdefghijklmnop, home /root"
    )

    assert text == ("signing [SECRET], bot [SECRET], [SECRET] Authorization: [SECRET], home /root")


def test_remote_backends_get_redacted_prompts_and_local_ones_only_lose_secrets() -> None:
    gate = PrivacyGate(Redactor(), SecretScrubber(["hunter2-password"]))
    messages = [Message("user", "paciente Maria Souza, CPF 529.982.247-25, hunter2-password")]

    remote = gate.outbound(messages, remote=True)[0].content
    local = gate.outbound(messages, remote=False)[0].content

    assert remote == "paciente [NAME], CPF [CPF], [SECRET]"
    assert local == "paciente Maria Souza, CPF 529.982.247-25, [SECRET]"


def test_log_lines_are_redacted_before_they_are_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.privacy")
    redacting = RedactingFilter(PrivacyGate(Redactor(), SecretScrubber()))
    caplog.handler.addFilter(redacting)
    try:
        with caplog.at_level(logging.INFO, logger="tests.privacy"):
            logger.info("update from %s: CPF %s", "ana@hospital.org.br", "529.982.247-25")
    finally:
        caplog.handler.removeFilter(redacting)

    assert caplog.messages == ["update from [EMAIL]: CPF [CPF]"]
