"""The admin CLI: exit codes, one-line errors, and the commands of SPEC section 8."""
from __future__ import annotations

import json

import pytest

from tests.builders import bundle, mc_data, question_data


def write(tmp_path, name, doc) -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def assert_fails(result, *fragments: str) -> None:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_init_db_is_idempotent(runner):
    first = runner("init-db")
    second = runner("init-db")
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_commands_refuse_an_uninitialised_database(runner, tmp_path):
    runner.env = {**runner.env, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    assert_fails(runner("question", "list"), "forecasts init-db")


def test_user_create_reads_password_from_stdin(runner):
    result = runner("user", "create", "alice", "--admin", "--password-stdin",
                    input="correct horse battery\n")
    assert result.exit_code == 0, result.stderr
    assert "created admin alice" in result.stdout
    assert_fails(runner("user", "create", "ALICE"), "already exists")
    assert_fails(runner("user", "create", "bob", "--password-stdin", input="short\n"),
                 "password", "at least 10")


def _accounts(database) -> dict[str, tuple]:
    from sqlalchemy import select

    from forecasts.models import MailMessage, User
    with database.session() as s:
        users = {u.username: (u.email, u.email_verified) for u in s.scalars(select(User))}
        mails = [(m.kind, m.to_addr) for m in s.scalars(select(MailMessage).order_by(MailMessage.id))]
    return {"users": users, "mails": mails}


def test_user_email_options(runner, database):
    made = runner("user", "create", "alice", "--email", "Alice@Example.ORG", "--verified")
    assert made.exit_code == 0, made.stderr
    assert made.stdout.strip() == "created forecaster alice; address Alice@example.org set, verified"
    queued = runner("user", "create", "bob", "--email", "bob@example.org")
    assert queued.exit_code == 0 and "verification link to bob@example.org queued" in queued.stdout
    assert _accounts(database) == {"users": {"alice": ("Alice@example.org", True),
                                             "bob": (None, False)},
                                   "mails": [("verify", "bob@example.org")]}
    # A taken address is named, and nothing is created or changed.
    assert_fails(runner("user", "create", "carol", "--email", "ALICE@example.org"),
                 "ALICE@example.org", "another account")
    assert_fails(runner("user", "set-email", "bob", "alice@EXAMPLE.org", "--verified"),
                 "another account")
    assert_fails(runner("user", "set-email", "bob", "not-an-address"), "email", "'@'")
    assert_fails(runner("user", "set-email", "nobody", "n@example.org"), "no user named")
    assert_fails(runner("user", "create", "dave", "--verified"), "--verified needs --email")
    assert _accounts(database)["users"].keys() == {"alice", "bob"}
    said = runner("user", "set-email", "bob", "b2@example.org")
    assert said.exit_code == 0
    assert said.stdout.startswith("bob: verification link to b2@example.org queued")
    assert runner("user", "set-email", "alice", "a2@example.org", "--verified").stdout.strip() \
        == "alice: address a2@example.org set, verified"
    assert _accounts(database) == {"users": {"alice": ("a2@example.org", True),
                                             "bob": (None, False)},
                                   "mails": [("verify", "bob@example.org"),
                                             ("verify", "b2@example.org")]}


def test_question_create_and_list(runner, tmp_path):
    assert runner("question", "create", "--file", write(tmp_path, "q.json", question_data())).exit_code == 0
    assert runner("question", "create", "--file", write(tmp_path, "m.json", mc_data())).exit_code == 0
    listed = runner("question", "list", "--format", "json")
    rows = json.loads(listed.stdout)
    assert {r["slug"] for r in rows} == {"strike-2027", "partner-2027"}
    only = json.loads(runner("question", "list", "--tag", "diplomacy", "--format", "json").stdout)
    assert [r["slug"] for r in only] == ["partner-2027"]
    table = runner("question", "list").stdout.splitlines()
    assert table[0].split()[:3] == ["slug", "status", "kind"]
    assert_fails(runner("question", "create", "--file", write(tmp_path, "q.json", question_data())),
                 "already exists")


def test_question_create_rejects_bad_json_in_one_line(runner, tmp_path):
    assert_fails(runner("question", "create", "--file", write(tmp_path, "bad.json", "{oops")),
                 "bad.json", "not valid JSON")
    assert_fails(runner("question", "create", "--file", str(tmp_path / "missing.json")),
                 "missing.json")
    assert_fails(runner("question", "create", "--file",
                        write(tmp_path, "q.json", question_data(slug="No Caps"))), "slug")


def test_question_import_csv_is_atomic(runner, tmp_path):
    good = ("slug,title,kind,options,ordered,tags,open_at,close_at,rule\n"
            "tariff-rise,Tariffs above 25%?,binary,,,trade,2026-01-01,2027-01-01,\n"
            'bracket,Tariff bracket,multiple_choice,low|mid|high,true,trade,2026-01-01,2027-01-01,'
            '"{""type"": ""bins"", ""series"": ""tariff"", ""edges"": [0.1, 0.25]}"\n')
    bad = good + "broken,Broken,binary,,,trade,2027-01-01,2026-01-01,\n"
    assert_fails(runner("question", "import", write(tmp_path, "bad.csv", bad)), "line 4", "close_at")
    assert json.loads(runner("question", "list", "--format", "json").stdout) == []
    result = runner("question", "import", write(tmp_path, "good.csv", good))
    assert result.exit_code == 0, result.stderr
    assert "imported 2 questions" in result.stdout


def test_import_failure_names_row_and_changes_nothing(runner, tmp_path):
    doc = bundle()
    doc["forecasts"].append({"question": "strike-2027", "user": "bob",
                             "at": "2026-03-01T00:00:00Z", "probability": 1.2})
    assert_fails(runner("import", write(tmp_path, "b.json", doc)), "forecasts[1]", "probability")
    assert json.loads(runner("question", "list", "--format", "json").stdout) == []


def test_import_export_round_trip_through_cli(runner, tmp_path, reference):
    source = reference["bundles"][1]["bundle"]
    assert runner("import", write(tmp_path, "in.json", source)).exit_code == 0
    assert runner("export", tmp_path / "out.json").exit_code == 0
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["forecasts"] == source["forecasts"]
    assert runner("export", "-").stdout.strip() == (tmp_path / "out.json").read_text().strip()


@pytest.fixture
def imported(runner, tmp_path):
    doc = bundle(questions_=[question_data(), mc_data()])
    assert runner("import", write(tmp_path, "b.json", doc)).exit_code == 0
    return runner


def test_resolve_errors_are_one_line(imported):
    assert_fails(imported("resolve", "nope", "yes"), "no question with slug 'nope'")
    assert_fails(imported("resolve", "strike-2027", "maybe"), "not an outcome", "yes")
    assert_fails(imported("resolve", "strike-2027", "yes", "--known-at", "soon"), "--known-at")
    assert imported("resolve", "strike-2027", "yes", "--known-at", "2026-03-01",
                    "--note", "confirmed").exit_code == 0
    assert_fails(imported("resolve", "strike-2027", "no"), "already resolved", "--force")
    forced = imported("resolve", "strike-2027", "no", "--force", "--known-at", "2026-03-01")
    assert forced.exit_code == 0, forced.stderr


def test_annul_needs_reason_and_force_when_settled(imported):
    assert_fails(imported("annul", "partner-2027"), "--reason")
    assert imported("annul", "partner-2027", "--reason", "ambiguous wording").exit_code == 0
    assert_fails(imported("annul", "partner-2027", "--reason", "again"), "already annulled")
    assert imported("resolve", "partner-2027", "canada", "--force",
                    "--known-at", "2026-05-01").exit_code == 0
    rows = json.loads(imported("question", "list", "--format", "json").stdout)
    assert {r["slug"]: r["outcome"] for r in rows}["partner-2027"] == "Canada"


def test_demo_seeds_once(runner):
    first = runner("demo")
    assert first.exit_code == 0, first.stderr
    assert "demo data:" in first.stdout
    rows = json.loads(runner("question", "list", "--format", "json").stdout)
    assert len(rows) >= 25
    assert "already has questions" in runner("demo").stdout
