"""The track record page: the service's numbers in its tables, the inline SVG chart,
the filters, the empty state and clear errors for bad filters."""
from __future__ import annotations

import html
import re

import pytest

from forecasts.services.track_record import track_record
from forecasts.web import format as fmt
from tests.track_world import TOURNAMENT, build

BOOT = {"n_boot": 1000, "seed": 42}  # the testing app's LEADERBOARD_* settings


@pytest.fixture
def tw(session):
    return build(session)


def section(text: str, start: str, end: str | None = None) -> str:
    i = text.index(start)
    return text[i:text.index(end, i)] if end else text[i:]


def boot(app) -> dict[str, int]:
    return {"n_boot": app.config["LEADERBOARD_BOOTSTRAP"], "seed": app.config["LEADERBOARD_SEED"]}


def test_the_page_shows_the_services_numbers_and_an_inline_chart(app, web, session, tw):
    page = web.get("/users/alice/track-record")
    assert page.status_code == 200
    text = page.text
    record = track_record(session, "alice", **boot(app))
    series = section(text, 'class="track-series"', "</table>")
    rows = re.findall(r"<tr>(.*?)</tr>", section(series, "<tbody>"), re.S)
    assert len(rows) == len(record.series) == len(tw.slugs)
    for row, p in zip(rows, record.series):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert cells[1] == p.title
        assert cells[2:] == [fmt.signed(p.peer), fmt.number(p.brier), fmt.signed(p.relative_brier, 3),
                             fmt.signed(p.peer_mean), fmt.number(p.brier_mean),
                             fmt.signed(p.relative_brier_mean, 3), str(p.window_questions)]
    svg = section(text, "<svg", "</svg>")
    assert svg.count("<polyline") == 3 and "<script" not in svg and "style=" not in svg
    assert svg.count("<circle") == 3 * len(record.series)
    horizons = section(text, 'class="track-horizons"', "</table>")
    for h in record.horizons:
        assert (f'<th scope="row">{html.escape(h.label)}</th><td class="num">{fmt.number(h.mean_brier)}</td>'
                f'<td class="num">{h.forecasts}</td><td class="num">{h.questions}</td>') in horizons
    d = record.discrimination
    assert f"AUC <strong>{fmt.number(d.auc, 2)}</strong>" in text
    assert f"90% interval {fmt.number(d.low, 2)} to {fmt.number(d.high, 2)}" in text
    bins = section(text, 'class="track-calibration"', "</table>")
    for b in record.calibration:
        assert (f'<td class="num">{fmt.number(b.weight, 2)}</td><td class="num">{b.forecasts}</td>'
                f'<td class="num">{b.questions}</td>') in bins


def test_the_profile_links_to_it(web, tw):
    assert 'href="/users/alice/track-record"' in web.get("/users/alice").text


def test_filters_narrow_the_rows(web, session, tw):
    def slugs(query):
        page = web.get("/users/alice/track-record" + query)
        assert page.status_code == 200, page.text
        return re.findall(r'href="/questions/(track-q\d\d)"', page.text)
    assert set(slugs("")) == set(tw.slugs)
    assert set(slugs("?tag=tracked")) == tw.tagged
    assert set(slugs(f"?tournament={TOURNAMENT}")) == tw.in_tournament
    assert set(slugs(f"?tag=tracked&tournament={TOURNAMENT}")) == tw.tagged & tw.in_tournament
    record = track_record(session, "alice", n_boot=10, seed=1)
    start, end = record.series[2].time.date(), record.series[-2].time.date()
    expected = {p.question for p in record.series if start <= p.time.date() < end}
    assert set(slugs(f"?from={start}&to={end}")) == expected
    page = web.get(f"/users/alice/track-record?tournament={TOURNAMENT}&tag=tracked")
    assert f'<option value="{TOURNAMENT}" selected>' in page.text
    assert '<option value="tracked" selected>' in page.text


@pytest.mark.parametrize("query, where, words", [
    ("?tag=nothing-like-it", "tag", "is not the tag of any question"),
    ("?tournament=no-such-cup", "tournament", "is not the slug of any tournament"),
    ("?from=yesterday", "from", "is not a date such as 2026-01-31"),
    ("?to=2026-13-45", "to", "is not a date such as 2026-01-31"),
    ("?from=2026-06-01&to=2026-01-01", "from", "must be before its end"),
])
def test_a_bad_filter_is_a_clear_400_with_the_form(web, tw, query, where, words):
    page = web.get("/users/alice/track-record" + query)
    assert page.status_code == 400
    alert = section(page.text, 'role="alert"', "</p>")
    assert f"{where}: " in alert and words in html.unescape(alert)
    assert 'name="tag"' in page.text and "<svg" not in page.text
    value = query.split("=")[1].split("&")[0]
    assert value not in alert  # the message does not reflect the link's value


def test_empty_states(web, tw):
    page = web.get("/users/dora/track-record")
    assert page.status_code == 200
    assert "No resolved questions yet" in page.text and "<svg" not in page.text
    page = web.get("/users/alice/track-record?from=2001-01-01&to=2001-02-01")
    assert page.status_code == 200 and "matches these filters" in page.text
    assert "Clear filters" in page.text


def test_an_unknown_user_is_404(web, tw):
    assert web.get("/users/nobody/track-record").status_code == 404


def test_a_question_added_to_the_tournament_shows_at_once(web, session, tw):
    from forecasts.services import tournaments

    def slugs():
        page = web.get(f"/users/alice/track-record?tournament={TOURNAMENT}")
        return set(re.findall(r'href="/questions/(track-q\d\d)"', page.text))
    assert slugs() == tw.in_tournament == slugs()  # the second one from the cache
    extra = sorted(set(tw.slugs) - tw.in_tournament)[0]
    tournaments.add_questions(session, TOURNAMENT, [extra])
    session.commit()
    assert slugs() == tw.in_tournament | {extra}


def test_the_table_lists_the_latest_questions_and_links_to_all(web, session, tw, monkeypatch):
    from forecasts.web import track
    monkeypatch.setattr(track, "TABLE_ROWS", 5)
    text = web.get("/users/alice/track-record?tag=tracked").text
    series = section(text, 'class="track-series"', "</table>")
    shown = re.findall(r'href="/questions/(track-q\d\d)"', series)
    record = track_record(session, "alice", tag="tracked", n_boot=10, seed=1)
    assert shown == [p.question for p in record.series][-5:]
    assert f"(the latest 5 of {record.questions})" in text
    assert 'href="/api/v1/users/alice/track-record?tag=tracked"' in text
    # The chart still draws every question.
    svg = section(text, "<svg", "</svg>")
    assert svg.count("<circle") == 3 * record.questions
