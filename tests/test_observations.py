"""Observations from the CLI: record one, import a CSV atomically, list a series; typos do
not start series and the future is not observed."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from forecasts import timeutil
from tests.test_cli import assert_fails


def listed(runner, series: str) -> list[dict]:
    result = runner("observe", "list", series, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_observe_records_one_value(runner):
    result = runner("observe", "us-mx-tariff-rate", "0.25", "--at", "2025-03-04T05:00:00Z",
                    "--source", "https://example.org/notice", "--new-series")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "recorded us-mx-tariff-rate = 0.25 at 2025-03-04T05:00:00Z"
    [row] = listed(runner, "us-mx-tariff-rate")
    assert row["at"] == "2025-03-04T05:00:00Z" and row["value"] == 0.25
    assert row["source"] == "https://example.org/notice" and row["recorded_by"].startswith("cli:")


def test_observe_takes_negative_values_and_the_explicit_record_form(runner):
    assert runner("observe", "balance", "-12.5", "--at", "2025-01-01",
                  "--new-series").exit_code == 0
    # A series may be called "list": the explicit form records it.
    assert runner("observe", "record", "list", "3", "--at", "2025-01-02",
                  "--new-series").exit_code == 0
    assert [r["value"] for r in listed(runner, "balance")] == [-12.5]
    assert [r["value"] for r in listed(runner, "list")] == [3.0]


@pytest.mark.parametrize("args, fragments", [
    (("rate", "lots", "--at", "2025-01-01"), ("value", "'lots' is not a number")),
    (("rate", "nan", "--at", "2025-01-01"), ("value", "not a finite number")),
    (("Rate!", "1", "--at", "2025-01-01"), ("series", "not a series name")),
    (("rate", "1", "--at", "yesterday"), ("--at", "ISO 8601")),
    (("rate", "1"), ("--at",)),
    (("rate", "1", "--at", "2025-01-01", "--source", "x" * 501), ("source", "500")),
])
def test_observe_rejects_bad_input_in_one_line(runner, args, fragments):
    assert_fails(runner("observe", *args), *fragments)
    assert listed(runner, "rate") == []


def test_observe_list_orders_by_time_and_offers_csv(runner):
    assert runner("observe", "rate", "2", "--at", "2025-03-01", "--new-series").exit_code == 0
    for at, value in (("2025-01-01", "1"), ("2025-02-01", "1.5")):
        assert runner("observe", "rate", value, "--at", at).exit_code == 0
    assert [r["value"] for r in listed(runner, "rate")] == [1.0, 1.5, 2.0]
    csv_lines = runner("observe", "list", "rate", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "at,value,source,recorded_by,recorded_at"
    assert csv_lines[1].startswith("2025-01-01T00:00:00Z,1.0,,cli:")
    table = runner("observe", "list", "rate").stdout.splitlines()
    assert table[0].split() == ["at", "value", "source", "recorded_by", "recorded_at"]
    assert_fails(runner("observe", "list", "Not A Series"), "series")


GOOD_CSV = ("series,at,value,source\n"
            "us-mx-tariff-rate,2025-01-20T00:00:00Z,0,schedule\n"
            "us-mx-tariff-rate,2025-03-04T05:00:00Z,0.25,schedule\n"
            "mx-seizures,2025-04-10,64,\n")


def test_observe_import_adds_every_row_and_skips_what_is_already_recorded(runner, tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text(GOOD_CSV)
    first = runner("observe", "import", str(path), "--new-series")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.strip() == "imported 3 observations"
    again = runner("observe", "import", str(path))
    assert again.stdout.strip() == "imported 0 observations (3 already recorded)"
    assert [r["value"] for r in listed(runner, "us-mx-tariff-rate")] == [0.0, 0.25]
    [seizure] = listed(runner, "mx-seizures")
    assert seizure["at"] == "2025-04-10T00:00:00Z" and seizure["source"] is None


@pytest.mark.parametrize("text, fragments", [
    (GOOD_CSV + "us-mx-tariff-rate,2025-13-01,0.3,x\n", ("line 5.at",)),
    (GOOD_CSV + "us-mx-tariff-rate,2025-05-01,high,x\n", ("line 5.value", "not a number")),
    (GOOD_CSV + "Bad Series,2025-05-01,1,x\n", ("line 5.series",)),
    (GOOD_CSV + "us-mx-tariff-rate,2025-05-01,1,x,extra\n", ("line 5", "more fields")),
    ("series,at\nrate,2025-01-01\n", ("header", "missing column(s): value")),
    ("series,at,value,unit\nrate,2025-01-01,1,%\n", ("header", "unknown column(s): unit")),
    ("series,at,value,source\n", ("no observation rows",)),
])
def test_observe_import_is_atomic_with_line_numbered_errors(runner, tmp_path, text, fragments):
    path = tmp_path / "obs.csv"
    path.write_text(text)
    assert_fails(runner("observe", "import", str(path), "--new-series"), *fragments)
    assert listed(runner, "us-mx-tariff-rate") == []


def test_observe_import_of_a_missing_file(runner, tmp_path):
    assert_fails(runner("observe", "import", str(tmp_path / "none.csv")), "none.csv")


# --- unknown series need --new-series; future observations are refused --------------

def test_a_typo_does_not_start_a_series_and_the_error_suggests_the_known_one(runner):
    assert runner("observe", "us-mx-tariff-rate", "0", "--at", "2025-01-01",
                  "--new-series").exit_code == 0
    typo = runner("observe", "us-mx-tarif-rate", "0.25", "--at", "2025-03-04")
    assert_fails(typo, "observation.series", "'us-mx-tarif-rate'", "--new-series",
                 "did you mean us-mx-tariff-rate?")
    assert listed(runner, "us-mx-tarif-rate") == []
    # A known series needs no flag; the flag starts a new one on purpose.
    assert runner("observe", "us-mx-tariff-rate", "0.25", "--at", "2025-03-04").exit_code == 0
    assert runner("observe", "us-mx-tarif-rate", "1", "--at", "2025-03-04",
                  "--new-series").exit_code == 0
    assert [r["value"] for r in listed(runner, "us-mx-tariff-rate")] == [0.0, 0.25]
    assert [r["value"] for r in listed(runner, "us-mx-tarif-rate")] == [1.0]


def test_a_series_that_a_rule_reads_is_known_before_its_first_observation(runner, tmp_path):
    from tests.builders import bundle, question_data

    rule = {"type": "conditional", "condition": "plain", "outcome": "yes",
            "then": {"type": "threshold", "series": "mx-seizures", "op": ">=", "value": 200,
                     "when": "close"}}
    doc = bundle(questions_=[question_data(slug="plain"),
                             question_data(slug="seizures", rule=rule)], forecasts=[])
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc))
    assert runner("import", str(path)).exit_code == 0
    result = runner("observe", "mx-seizures", "64", "--at", "2025-04-10")
    assert result.exit_code == 0, result.stderr
    assert_fails(runner("observe", "mx-seizure", "64", "--at", "2025-04-10"),
                 "did you mean mx-seizures?")


def test_import_names_the_first_line_of_an_unknown_series_and_adds_nothing(runner, tmp_path):
    assert runner("observe", "us-mx-tariff-rate", "0", "--at", "2025-01-01",
                  "--new-series").exit_code == 0
    path = tmp_path / "obs.csv"
    path.write_text("series,at,value\n"
                    "us-mx-tariff-rate,2025-02-01,0.1\n"
                    "us-mx-tarrif-rate,2025-03-01,0.25\n"
                    "fresh,2025-03-01,7\n")
    assert_fails(runner("observe", "import", str(path)), "line 3.series", "'us-mx-tarrif-rate'",
                 "did you mean us-mx-tariff-rate?", "also new: fresh", "--new-series")
    assert [r["value"] for r in listed(runner, "us-mx-tariff-rate")] == [0.0]
    added = runner("observe", "import", str(path), "--new-series")
    assert added.exit_code == 0 and added.stdout.strip() == "imported 3 observations"
    assert [r["value"] for r in listed(runner, "fresh")] == [7.0]


def test_an_observation_dated_in_the_future_is_refused(runner):
    soon = timeutil.iso(timeutil.now() + timedelta(minutes=5))
    assert_fails(runner("observe", "rate", "1", "--at", soon, "--new-series"),
                 "--at", "is in the future")
    assert listed(runner, "rate") == []
    past = timeutil.iso(timeutil.now() - timedelta(seconds=1))
    assert runner("observe", "rate", "1", "--at", past, "--new-series").exit_code == 0


def test_import_refuses_a_future_row_by_its_line(runner, tmp_path):
    tomorrow = timeutil.iso(timeutil.now() + timedelta(days=1))
    path = tmp_path / "obs.csv"
    path.write_text(f"series,at,value\nrate,2025-01-01,1\nrate,{tomorrow},2\n")
    assert_fails(runner("observe", "import", str(path), "--new-series"),
                 "line 3.at", "is in the future")
    assert listed(runner, "rate") == []


def test_service_checks_the_future_against_the_given_now(session):
    from forecasts.errors import InvalidInput
    from forecasts.services import observations

    now = timeutil.parse("2025-06-01T00:00:00Z", where="now")
    at = timeutil.parse("2025-06-01T00:00:01Z", where="at")
    with pytest.raises(InvalidInput) as error:
        observations.record(session, "rate", 1, at, new_series=True, now=now)
    assert error.value.where == "observation.at"
    assert observations.record(session, "rate", 1, now, new_series=True, now=now).at == now
