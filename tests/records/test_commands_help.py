"""``ivr report``, ``ivr purge`` and ``ivr forget`` show their own help, with an example,
and exit 0; a missing argument is a usage error (2) that says what is missing."""
from __future__ import annotations

import io

import pytest

from ivr.records import run_forget_cli, run_purge_cli, run_report_cli


@pytest.mark.parametrize("command, run, says", [
    ("report", run_report_cli, "--format {table,json,csv}"),
    ("purge", run_purge_cli, "--days DAYS"),
    ("forget", run_forget_cli, "number"),
])
def test_help_with_an_example(command, run, says):
    out = io.StringIO()
    assert run(["--help"], out, io.StringIO()) == 0
    assert f"usage: ivr {command}" in out.getvalue() and says in out.getvalue()
    assert "Example:" in out.getvalue()


def test_forget_without_a_number_is_a_usage_error():
    err = io.StringIO()
    assert run_forget_cli([], io.StringIO(), err) == 2
    assert "required: number" in err.getvalue()


def test_where_the_records_are_and_how_long_they_are_kept(tmp_path):
    from ivr.records import records_url, retention_days
    from ivr.records.database import sqlalchemy_url

    assert records_url({"IVR_VAR_DIR": str(tmp_path)}) == f"sqlite:///{tmp_path}/records.sqlite3"
    assert records_url({"IVR_RECORDS_URL": "postgresql://ivr@db/ivr"}) == "postgresql://ivr@db/ivr"
    assert sqlalchemy_url("postgresql://ivr@db/ivr") == "postgresql+psycopg://ivr@db/ivr"
    assert sqlalchemy_url("postgres://ivr@db/ivr") == "postgresql+psycopg://ivr@db/ivr"
    assert (retention_days({}), retention_days({"IVR_RETENTION_DAYS": " 90 "})) == (365, 90)
    with pytest.raises(ValueError, match="IVR_RETENTION_DAYS='a year'"):
        retention_days({"IVR_RETENTION_DAYS": "a year"})
    assert sqlalchemy_url("sqlite:///var/lib/ivr/records.sqlite3") == "sqlite:////var/lib/ivr/records.sqlite3"
    assert sqlalchemy_url(f"sqlite:///{tmp_path}/r.sqlite3") == f"sqlite:///{tmp_path}/r.sqlite3"
    with pytest.raises(ValueError, match="absolute file path"):
        sqlalchemy_url("sqlite://records.sqlite3")
