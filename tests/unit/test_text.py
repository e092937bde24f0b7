"""Table text is cut between words."""

from __future__ import annotations

from relay._text import first_line, milliseconds, shorten, when


def test_short_text_is_kept_on_one_line() -> None:
    assert shorten("not sent:\n  refused", 60) == "not sent: refused"


def test_a_cut_falls_between_words_with_an_ellipsis() -> None:
    text = "not sent: ClientConnectorError: Cannot connect to host 127.0.0.1:8787 ssl:default"
    cut = shorten(text, 60)
    assert cut == "not sent: ClientConnectorError: Cannot connect to host…"
    assert len(cut) <= 60


def test_one_word_longer_than_the_width_is_cut_inside_it() -> None:
    assert shorten("x" * 20, 10) == "x" * 9 + "…"


def test_first_line_skips_blank_lines() -> None:
    assert first_line("\n  \n  boom  \nmore") == "boom"
    assert first_line("") == ""


def test_a_moment_is_shown_in_utc_to_the_second() -> None:
    assert when(1714557605.9) == "2024-05-01 10:00:05"
    assert when(None) == "-"


def test_a_duration_is_in_ms_below_a_second_and_in_seconds_from_one() -> None:
    assert (milliseconds(85.4), milliseconds(1250.0), milliseconds(None)) == (
        "85 ms",
        "1.25 s",
        "-",
    )
