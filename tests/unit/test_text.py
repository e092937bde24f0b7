"""Table text is cut between words."""

from __future__ import annotations

from relay._text import first_line, shorten


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
