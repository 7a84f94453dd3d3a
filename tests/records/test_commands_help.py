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
