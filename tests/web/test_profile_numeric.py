"""A profile with numeric and date questions: their CRPS beside the crowd's with who
won, and the PIT histogram and interval coverage of the forecaster and of the crowd."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from forecasts.models import CrowdScore, Question, QuestionScore, User
from forecasts.services.numeric_calibration import numeric_calibration
from forecasts.web import format as fmt
from tests.numeric_world import scored_world


def _cells(row: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_scores_show_crps_against_the_crowd(web, database):
    slugs = scored_world(database)
    page = web.get("/users/ana")
    assert page.status_code == 200
    with database.session() as s:
        ana = s.scalars(select(User).where(User.username == "ana")).one()
        rows = s.execute(select(Question.title, QuestionScore.crps, CrowdScore.crps)
                         .join(QuestionScore, QuestionScore.question_id == Question.id)
                         .join(CrowdScore, CrowdScore.question_id == Question.id)
                         .where(QuestionScore.user_id == ana.id)).all()
    assert len(rows) == len(slugs)
    won = lost = 0
    table = page.text[page.text.index('class="scores"'):]
    for title, mine, crowd in rows:
        row = re.search(r"<tr><td><a[^>]*>" + re.escape(html.escape(title)) + r"</a></td>(.*?)</tr>",
                        table, re.S).group(1)
        cells = _cells(row)
        assert cells[0] == fmt.DASH and cells[1] == fmt.number(mine, 4)  # no Brier, a CRPS
        mark = "won" if mine < crowd else "lost" if mine > crowd else "tied"
        assert cells[-1] == f"{fmt.number(crowd, 4)} {mark}"
        won, lost = won + (mark == "won"), lost + (mark == "lost")
    assert f"won {won}, lost {lost}" in page.text


def test_pit_histogram_and_coverage_of_user_and_crowd(web, database):
    scored_world(database)
    page = web.get("/users/ben").text
    with database.session() as s:
        ben = s.scalars(select(User).where(User.username == "ben")).one()
        mine, crowd = numeric_calibration(s, ben.id), numeric_calibration(s, None)
    section = page[page.index('id="pit-h"'):]
    section = section[:section.index("</section>")]
    assert section.count("<rect") == 10
    rows = re.findall(r"<tr><td>(.*?)</tr>", section, re.S)
    assert len(rows) == 10
    for row, b, c in zip(rows, mine["pit"], crowd["pit"]):
        assert _cells("<td>" + row)[1:] == [fmt.number(b["weight"], 2), fmt.number(b["density"], 2),
                                            fmt.number(c["density"], 2)]
    for level in ("50", "90"):
        assert (f"{level}% intervals held the outcome</dt><dd>{fmt.percent(mine['coverage'][level], 0)}"
                f" <span class=\"muted small\">(crowd {fmt.percent(crowd['coverage'][level], 0)})") in section


def test_a_forecaster_without_numeric_questions_has_no_pit_section(web, world):
    page = web.get("/users/alice")
    assert page.status_code == 200 and 'id="pit-h"' not in page.text
