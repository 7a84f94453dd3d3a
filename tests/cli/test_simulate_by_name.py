"""``ivr simulate NAME`` calls the flow named, even one that serves no number of its own
(the Korean line is reached from the English one by a ``goto``)."""
from __future__ import annotations

from datetime import UTC, datetime

from ivr.flows.library import FlowLibrary
from ivr.model.events import CallStarted
from ivr.runtime import advance

from cli_run import REPO, run_ivr

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_the_installed_command_plays_the_flow_it_was_named(tmp_path):
    script = tmp_path / "ko.yaml"
    script.write_text('at: "2026-11-24T15:00:00Z"\nsteps:\n  - expect: "애크미 아웃피터스입니다"\n'
                      '  - expect_not: "Welcome to Acme"\n', encoding="utf-8")
    done = run_ivr("simulate", "acme-support-ko", "--script", str(script))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "script passed" in done.stderr
    assert "Welcome to Acme" not in done.stdout


def test_advance_starts_in_the_flow_named_and_by_number_without_one():
    library = FlowLibrary(REPO / "call_flows", REPO / "audio")
    assert not [p for p in library.reload() if p.severity == "error"]
    started = CallStarted(AT, "CA1", "+15551230000", "")
    assert advance(library, None, started, flow_name="acme-support-ko").flow.name == "acme-support-ko"
    assert advance(library, None, started).flow.name == "acme-support"  # the default flow, as before
    dialled = CallStarted(AT, "CA2", "+15551230000", "+15005550006")
    assert advance(library, None, dialled).flow.name == "acme-support"
