"""Text for Telegram: HTML escaping, cutting at 4096 UTF-16 units, button data, menus."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.transports.telegram import keyboards
from bot.transports.telegram.commands import botfather_text
from bot.transports.telegram.places import Place
from bot.transports.telegram.text import formatted, split, units

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("plain", "html"),
    [
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("type `ack INC-0001` now", "type <code>ack INC-0001</code> now"),
        ("<b>not bold</b>", "&lt;b&gt;not bold&lt;/b&gt;"),
        ("an `unclosed backtick", "an `unclosed backtick"),
    ],
)
def test_jamie_text_becomes_safe_html(plain: str, html: str) -> None:
    assert formatted(plain).html == html


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    assert (units("🚨"), units("ação")) == (2, 4)


def test_short_text_is_one_message() -> None:
    assert split("hello\n\nworld") == ["hello\n\nworld"]


def test_paragraphs_stay_whole_when_text_is_cut() -> None:
    paragraphs = ["a" * 3000, "b" * 3000, "c" * 100]

    assert split("\n\n".join(paragraphs)) == ["a" * 3000, "b" * 3000 + "\n\n" + "c" * 100]


def test_a_paragraph_longer_than_a_message_is_cut_between_lines_then_words() -> None:
    lines = ["word " * 500, "line " * 300, "long " * 1000]

    chunks = split("\n".join(lines))

    assert chunks[0] == f"{lines[0]}\n{lines[1]}"  # two lines fit in one message
    assert all(units(c) <= 4096 for c in chunks)
    assert " ".join(chunks[1:]).split() == lines[2].split()


def test_an_unbroken_run_is_cut_anywhere() -> None:
    assert [len(c) for c in split("x" * 9000)] == [4096, 4096, 808]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("i:ack:12:abc123", keyboards.CardPress(keyboards.CardAction.ACK, 12, "abc123")),
        ("v:ok:7", keyboards.NotePress(keyboards.NoteAction.CONFIRM, 7)),
        ("v:nope:7", None),
        ("i:ack:twelve:x", None),
        (None, None),
    ],
)
def test_button_data_is_read_back(data: str | None, expected: object) -> None:
    assert keyboards.parse(data) == expected


@pytest.mark.parametrize(
    ("address", "place", "link"),
    [
        ("-1001234:55", Place(-1001234, 55), "https://t.me/c/1234/55"),
        ("-5001", Place(-5001), None),
        ("111", Place(111), None),
    ],
)
def test_conversation_addresses_round_trip(address: str, place: Place, link: str | None) -> None:
    assert (Place.parse(address), place.address, place.link) == (place, address, link)


@pytest.mark.parametrize(("language", "name"), [("pt-BR", "pt"), ("en", "en")])
def test_the_botfather_command_lists_in_deploy_match_what_jamie_registers(
    language: str, name: str
) -> None:
    on_disk = (REPO / "deploy" / "telegram" / f"commands-{name}.txt").read_text(encoding="utf-8")

    words = [line.split(" - ")[0] for line in on_disk.splitlines()]

    assert words == [line.split(" - ")[0] for line in botfather_text(language).splitlines()]
