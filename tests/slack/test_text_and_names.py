"""Text crossing the boundary and channel names: pure functions, as tables."""

from __future__ import annotations

from datetime import date

import pytest

from bot.transports.slack.naming import MAX_LENGTH, channel_name
from bot.transports.slack.text import WORD_JOINER, chunks, clip, from_slack, mrkdwn

DAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("received", "stored"),
    [
        ("fallback &amp; restart", "fallback & restart"),
        ("a &lt;b&gt; c", "a <b> c"),
        ("typed &amp;lt; literally", "typed &lt; literally"),  # decoded once, not twice
        ("assign <@U0RESP|rui>", "assign @rui"),
        ("assign <@U0RESP>", "assign @U0RESP"),
        ("see <#C0SRE|sre-plantao>", "see #sre-plantao"),
        ("<!here> and <!channel> and <!everyone>", "@here and @channel and @everyone"),
        ("<https://status.example|status page>", "status page"),
        ("<https://status.example>", "https://status.example"),
        ("<!subteam^S123|@sre-team> help", "@sre-team help"),
    ],
)
def test_slack_markup_is_decoded_once_on_input(received: str, stored: str) -> None:
    assert from_slack(received) == stored


@pytest.mark.parametrize(
    ("stored", "posted"),
    [
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("ping @here now", f"ping @{WORD_JOINER}here now"),
        ("@Channel @everyone", f"@{WORD_JOINER}Channel @{WORD_JOINER}everyone"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("mail ana@hereford.example", "mail ana@hereford.example"),
    ],
)
def test_text_is_escaped_on_output_and_never_pings_a_channel(stored: str, posted: str) -> None:
    assert mrkdwn(stored) == posted


def test_round_trip_shows_what_the_user_typed() -> None:
    typed_as_sent_by_slack = "Falha &lt;api&gt; &amp; fila"

    assert mrkdwn(from_slack(typed_as_sent_by_slack)) == typed_as_sent_by_slack


def test_clip_never_cuts_an_entity_and_marks_the_cut() -> None:
    clipped = clip("a&" * 100, 20)

    assert len(clipped) <= 20 and clipped.endswith("…")
    assert clipped[:-1].endswith(("a", "&amp;"))


def test_chunks_split_between_lines_and_keep_everything() -> None:
    text = "\n".join(f"linha {n} & mais" for n in range(400))

    pieces = chunks(text, 3000)

    assert all(len(p) <= 3000 for p in pieces) and len(pieces) > 1
    assert "\n".join(pieces) == mrkdwn(text)


def test_one_huge_line_is_split_inside_the_line() -> None:
    pieces = chunks("x" * 7000, 3000)

    assert [len(p) for p in pieces] == [3000, 3000, 1000]


@pytest.mark.parametrize(
    ("title", "number", "attempt", "name"),
    [
        ("Falha total do Mac Studio", 1, 1, "inc-2026-03-02-falha-total-do-mac-studio"),
        ("Pronto-Socorro às 3h: ÇÃO!", 2, 1, "inc-2026-03-02-pronto-socorro-as-3h-cao"),
        ("Falha total do Mac Studio", 1, 2, "inc-2026-03-02-falha-total-do-mac-studio-2"),
        ("!!! ???", 7, 1, "inc-2026-03-02-0007"),
        ("503 503", 42, 1, "inc-2026-03-02-0042"),
        ("🔥🔥", 3, 3, "inc-2026-03-02-0003-3"),
        ("Straße UTI", 4, 1, "inc-2026-03-02-strasse-uti"),
    ],
)
def test_channel_names(title: str, number: int, attempt: int, name: str) -> None:
    assert channel_name(DAY, title, number, attempt) == name


@pytest.mark.parametrize("attempt", [1, 2, 10])
def test_long_titles_fit_in_80_characters_with_the_suffix(attempt: int) -> None:
    name = channel_name(DAY, "palavra " * 40, 1, attempt)

    assert len(name) <= MAX_LENGTH and not name.rstrip("0123456789").endswith("--")
    assert name.endswith(f"-{attempt}") == (attempt > 1)
