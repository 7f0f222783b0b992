"""Full-text search of questions (migration 0004, forecasts/services/search.py) on the
database in use: stemming, every word required, ranking, hostile text, and the index
following creation, edits, deletion and bundle import."""
from __future__ import annotations

import random

import pytest

from forecasts import timeutil
from forecasts.services import bundle
from forecasts.services.question_list import count_questions, list_questions
from forecasts.services.search import MAX_WORDS, fts5_query, search_words
from tests.builders import make_question, question_data

TEXTS = {
    "tariff-mexico": ("Will the US raise its tariff on Mexican steel?",
                      "Resolves yes if a tariff increase on imports from Mexico takes effect."),
    "tariffs-canada": ("Tariffs on Canadian lumber by June?",
                       "Any new duty on Canada's softwood lumber counts."),
    "tariff-only": ("A tariff question", "Nothing else in here."),
    "strike-port": ("Will dockworkers strike at a port?", "A strike of at least one day."),
    "mention-late": ("Port congestion in the Gulf", "Congestion could follow a new tariff."),
}


def search(session, text: str) -> list[str]:
    rows = list_questions(session, now=timeutil.now(), search=text)
    assert count_questions(session, now=timeutil.now(), search=text) == len(rows)
    return [row.question.slug for row in rows]


@pytest.fixture
def texts(session):
    for slug, (title, description) in TEXTS.items():
        make_question(session, slug=slug, title=title, description=description)
    session.commit()


@pytest.mark.parametrize("text, expected", [
    ("tariffs", {"tariff-mexico", "tariffs-canada", "tariff-only", "mention-late"}),
    ("TARIFF", {"tariff-mexico", "tariffs-canada", "tariff-only", "mention-late"}),
    ("tariff Mexico", {"tariff-mexico"}),
    ("Mexico tariff", {"tariff-mexico"}),
    ("tariff Canada", {"tariffs-canada"}),
    ("striking", {"strike-port"}),
    ("strikes port", {"strike-port"}),
    ("lumber canadian", {"tariffs-canada"}),
    ("tariff strike", set()),
    ("dockworker", {"strike-port"}),
    ("port", {"strike-port", "mention-late"}),  # the slug's words count too
    ("the tariff question", {"tariff-only"}),  # "the" is a stop word on both databases
    ("only", set()),  # nothing but a stop word
    ("zeppelin", set()),
])
def test_words_are_stemmed_and_all_required(session, texts, text, expected):
    assert set(search(session, text)) == expected


def test_a_title_match_outranks_a_description_match(session, texts):
    found = search(session, "tariff")
    assert found.index("tariff-only") < found.index("mention-late")
    assert found[-1] == "mention-late"  # the only one whose title lacks the word
    found = search(session, "congestion")
    assert found == ["mention-late"]


@pytest.mark.parametrize("text", [
    '"', '""', '"tariff', 'tariff"', "*", "tariff*", "-tariff", "tariff -mexico", ":",
    "title:tariff", "(", "tariff)", "NEAR", "NEAR(tariff mexico)", "tariff NEAR mexico",
    "AND", "tariff AND", "OR OR", "NOT tariff", "^tariff", "'", "tariff'; DROP TABLE questions;--",
    "%", "_", "\\", "{title}: tariff", "tarif\u0301f", "Zölle auf Stahl", "関税", "🙂 tariff",
    "tariff " * 60, "x" * 300, "a-b-c d.e.f", "\t\n", "&|!<>", "tariff:*", "!tariff",
])
def test_hostile_text_never_errors(session, texts, text):
    found = search(session, text)
    assert set(found) <= set(TEXTS)


def test_syntax_words_are_plain_words(session, texts):
    assert search(session, '"tariff" "mexico"') == search(session, "tariff mexico")
    assert search(session, "tariff* -mexico") == search(session, "tariff mexico")
    assert search(session, "NEAR") == [] and search(session, "AND") == []
    assert search(session, "NOT tariff") == search(session, "tariff")  # a stop word
    assert search(session, "title:tariff") == [] == search(session, "*")


def test_search_words():
    assert search_words('  "Tariffs" on MEXICO\'s (steel) -next* ') == \
        ["tariffs", "mexico", "steel", "next"]
    assert search_words("snake_case x__y") == ["snake", "case", "x", "y"]
    assert search_words("ｔａｒｉｆｆ") == ["tariff"]  # full-width letters, NFKC
    assert search_words("x y x z") == ["x", "y", "z"]
    assert search_words("Will the tariff be NOT raised") == ["tariff", "raised"]
    assert len(search_words(" ".join(f"w{i}" for i in range(100)))) == MAX_WORDS
    assert search_words("") == [] == search_words("*:-()") == search_words(None)
    assert fts5_query(["near", "and"]) == '"near" "and"'


def test_matches_an_independent_all_words_check(session):
    """Words the stemmers leave alone (letters with a digit): a question is found exactly
    when its title, description or slug holds every searched word."""
    rng = random.Random(9)
    vocabulary = [f"k{i}q" for i in range(8)]
    docs = {}
    for i in range(40):
        title = " ".join(rng.sample(vocabulary, rng.randint(1, 3)))
        description = " ".join(rng.sample(vocabulary, rng.randint(0, 3)))
        slug = f"doc-{i}"
        make_question(session, slug=slug, title=title, description=description)
        docs[slug] = set(title.split()) | set(description.split())
    session.commit()
    for _ in range(30):
        words = rng.sample(vocabulary, rng.randint(1, 3))
        expected = {slug for slug, held in docs.items() if set(words) <= held}
        assert set(search(session, " ".join(words))) == expected, words


def test_index_follows_create_edit_and_delete(session):
    question = make_question(session, slug="edit-me", title="Will the embargo hold?")
    session.commit()
    assert search(session, "embargoes") == ["edit-me"]
    question.title = "Will the blockade hold?"
    question.description = "Shipping counts."
    session.commit()
    assert search(session, "embargo") == []
    assert search(session, "blockades shipping") == ["edit-me"]
    question.slug = "renamed-slug"
    session.commit()
    assert search(session, "renamed") == ["renamed-slug"] and search(session, "edit") == []
    session.delete(question)
    session.commit()
    assert search(session, "blockade") == []


def test_index_follows_bundle_import(session):
    doc = {"format": "forecasts-bundle/1", "users": [], "forecasts": [],
           "questions": [question_data(slug="imported-one", title="Sanctions on refineries?"),
                         question_data(slug="imported-two", title="Refinery output up?")]}
    bundle.import_bundle(session, doc)
    session.commit()
    assert set(search(session, "refinery")) == {"imported-one", "imported-two"}
    assert search(session, "sanction refineries") == ["imported-one"]


def test_search_combines_with_filters_and_drafts_stay_hidden(session, texts):
    from forecasts.models import DRAFT

    draft = make_question(session, slug="draft-tariff", title="Draft tariff proposal")
    draft.review_state = DRAFT
    session.commit()
    assert "draft-tariff" not in search(session, "tariff")
    rows = list_questions(session, now=timeutil.now(), search="tariff", sort="newest",
                          status="open", limit=2)
    assert len(rows) == 2 and {r.question.slug for r in rows} <= set(TEXTS)


def test_the_migration_back_fills_existing_questions(database):
    from alembic import command

    from forecasts import migrate

    with database.session(write=True) as session:
        make_question(session, slug="before-search", title="Ceasefires along the border?")
        session.commit()
    config = migrate.alembic_config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    migrate.upgrade(database)
    assert migrate.is_current(database)
    with database.session() as session:
        assert search(session, "ceasefire borders") == ["before-search"]
