"""The profile's comparison and its column against the crowd."""
from __future__ import annotations

import re


def test_profile_compares_with_another_user(web, world):
    page = web.get("/users/alice?compare=bob")
    assert page.status_code == 200
    text = page.text
    section = text[text.index('id="compare-h"'):text.index('id="forecasts-h"')]
    assert "alice against bob over 1 question both scored" in section
    assert "Peer" in section and "Brier" in section and "cannot tell apart yet" in section
    assert "Question by question" in section and "/questions/strike-resolved" in section
    assert 'value="bob"' in section


def test_profile_compares_with_the_crowd_and_shows_the_tally(web, world):
    text = web.get("/users/alice?compare=crowd").text
    assert "alice against the crowd over 1 question" in text
    assert re.search(r"Against the crowd(&#39;|')s Brier \(CRPS on numeric and date questions\): won", text)
    scores = text[text.index('id="qscores-h"'):text.index('id="compare-h"')]
    assert re.search(r'badge vs-(won|lost|tied)', scores)


def test_comparing_with_an_unknown_user_or_yourself_is_a_clear_400(web, world):
    page = web.get("/users/alice?compare=nobody")
    assert page.status_code == 400 and "no user named &#39;nobody&#39; to compare with" in page.text
    assert "Scores by question" in page.text  # the profile is still shown
    page = web.get("/users/alice?compare=ALICE")
    assert page.status_code == 400 and "that is alice" in page.text
    assert web.get("/users/alice?compare=").status_code == 400


def test_a_comparison_page_past_the_last_is_404_and_a_bad_number_422(web, world):
    assert web.get("/users/alice?compare=bob&compare_page=2").status_code == 404
    assert web.get("/users/alice?compare=bob&compare_page=x").status_code == 422


def test_the_profile_without_a_comparison_has_the_form_only(web, world):
    text = web.get("/users/alice").text
    assert 'name="compare"' in text and "both scored" not in text
