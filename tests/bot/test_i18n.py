"""The message catalogs: both languages say the same things with the same blanks to fill,
and every name the code looks up has a text in each."""

from __future__ import annotations

import string
from enum import StrEnum

import pytest

from bot.commands.words import CommandName
from bot.domain.enums import EntryKind, Role, Stage, Status
from bot.domain.errors import DomainError
from bot.domain.lifecycle import Action
from bot.i18n import LANGUAGES, Catalog, normalise_language


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_both_catalogs_have_the_same_keys() -> None:
    portuguese, english = set(Catalog.keys("pt-BR")), set(Catalog.keys("en"))

    assert (sorted(portuguese - english), sorted(english - portuguese)) == ([], [])


def test_each_message_has_the_same_placeholders_in_both_languages() -> None:
    portuguese, english = Catalog.keys("pt-BR"), Catalog.keys("en")

    differing = {
        key: (placeholders(portuguese[key]), placeholders(english[key]))
        for key in portuguese.keys() & english.keys()
        if placeholders(portuguese[key]) != placeholders(english[key])
    }

    assert differing == {}


def _names(prefix: str, values: type[StrEnum]) -> list[str]:
    return [f"{prefix}.{value.value}" for value in values]


LOOKED_UP = [
    *_names("help", CommandName),
    *_names("state", Status),
    *_names("stage", Stage),
    *_names("role", Role),
    *_names("action", Action),
    *_names("timeline", EntryKind),
    *(cls.key for cls in DomainError.__subclasses__()),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", LOOKED_UP)
def test_every_name_the_code_looks_up_has_a_message(language: str, key: str) -> None:
    assert Catalog(language).has(key)


def test_help_lists_commands_by_their_word_in_that_language() -> None:
    assert (Catalog("en")("help.resolve"), Catalog("pt-BR")("help.resolve")) == (
        "resolve [INC-n] <root cause> — close the incident",
        "resolver [INC-n] <causa raiz> — encerra o incidente",
    )


@pytest.mark.parametrize(
    ("code", "default", "language"),
    [
        ("pt-BR", "en", "pt-BR"),
        ("pt", "en", "pt-BR"),
        ("pt_BR", "en", "pt-BR"),
        ("PT-br", "en", "pt-BR"),
        ("português", "en", "pt-BR"),
        ("Portuguese", "en", "pt-BR"),
        ("en", "pt-BR", "en"),
        ("en-US", "pt-BR", "en"),
        ("en_GB", "pt-BR", "en"),
        ("English", "pt-BR", "en"),
        ("inglês", "pt-BR", "en"),
        (" en ", "pt-BR", "en"),
        ("fr", "pt-BR", "pt-BR"),
        ("es-AR", "en", "en"),
        ("", "en", "en"),
        (None, "pt-BR", "pt-BR"),
    ],
)
def test_language_codes_are_normalised_to_a_catalog_or_the_default(
    code: str | None, default: str, language: str
) -> None:
    assert normalise_language(code, default) == language


def test_message_missing_in_every_catalog_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"reply\.nonexistent"):
        Catalog("en")("reply.nonexistent")
