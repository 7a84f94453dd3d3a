"""``ivr simulate``: scripted calls of the demo line, failures, usage errors, interactive."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.cli import build_parser, main
from ivr.simulate import main_simulate

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((REPO / "tests" / "scripts").glob("*.yaml"))
FLOWS = str(REPO / "call_flows")
AUDIO = str(REPO / "audio")


def simulate(*args: str) -> int:
    return main(["simulate", "acme-support", "--flows", FLOWS, "--audio", AUDIO, *args])


def test_there_are_scripts():
    names = {p.stem for p in SCRIPTS}
    assert {"order-status-found", "order-not-found-twice", "balance", "store-hours-open", "store-hours-closed",
            "store-hours-holiday", "after-hours-message", "operator-zero", "operator-agent"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_scripted_call_passes(script, capsys):
    code = simulate("--script", str(script))
    out, err = capsys.readouterr()
    assert code == 0, f"{script.name} failed:\n{err}\n{out}"
    assert "script passed" in err
    assert "IVR:" in out  # the conversation is printed


def test_the_pin_is_not_printed_by_the_simulator(capsys):
    simulate("--script", str(REPO / "tests" / "scripts" / "balance.yaml"))
    out, _ = capsys.readouterr()
    assert "(presses 1234)" in out  # the caller's own keys are echoed ...
    ivr_lines = [line for line in out.splitlines() if not line.startswith("you:")]
    assert not any("1234" in line for line in ivr_lines)  # ... but the IVR never says or shows them


def test_a_failing_script_exits_1_naming_the_step_and_what_was_heard(tmp_path, capsys):
    script = tmp_path / "wrong.yaml"
    script.write_text('at: "2026-11-24T15:00:00Z"\nsteps:\n  - press: "1"\n  - press: "123456"\n'
                      '  - expect: "has been delivered"\n', encoding="utf-8")
    assert simulate("--script", str(script)) == 1
    _, err = capsys.readouterr()
    assert "script step 3" in err
    assert "expected to hear 'has been delivered'" in err
    assert "has shipped" in err  # what the caller heard instead


def test_a_transfer_step_with_no_transfer_under_way_fails(tmp_path, capsys):
    script = tmp_path / "no-transfer.yaml"
    script.write_text('at: "2026-11-24T15:00:00Z"\nsteps:\n  - transfer: busy\n', encoding="utf-8")
    assert simulate("--script", str(script)) == 1
    assert "script step 1: no transfer is under way" in capsys.readouterr().err


def test_expect_end_fails_while_the_call_is_live(tmp_path, capsys):
    script = tmp_path / "not-ended.yaml"
    script.write_text('at: "2026-11-24T15:00:00Z"\nsteps:\n  - press: "1"\n  - expect_end\n', encoding="utf-8")
    assert simulate("--script", str(script)) == 1
    assert "script step 2: expected the call to have ended" in capsys.readouterr().err


@pytest.mark.parametrize("text, says", [
    ("- just a list\n", "'steps:' list"),
    ("steps: not-a-list\n", "'steps:' list"),
    ("steps: [\n", "error:"),
])
def test_a_malformed_script_exits_2(tmp_path, capsys, text, says):
    script = tmp_path / "bad.yaml"
    script.write_text(text, encoding="utf-8")
    assert simulate("--script", str(script)) == 2
    assert says in capsys.readouterr().err


def test_an_unknown_step_exits_2(tmp_path, capsys):
    script = tmp_path / "typo.yaml"
    script.write_text('at: "2026-11-24T15:00:00Z"\nsteps:\n  - prses: "1"\n', encoding="utf-8")
    assert simulate("--script", str(script)) == 2
    assert "script step 1: unknown step" in capsys.readouterr().err


def test_a_missing_script_file_exits_2(tmp_path, capsys):
    assert simulate("--script", str(tmp_path / "nowhere.yaml")) == 2
    assert "error:" in capsys.readouterr().err


def test_a_bad_start_time_exits_2(capsys):
    assert simulate("--at", "next tuesday") == 2
    assert "--at must be an ISO time" in capsys.readouterr().err


def test_an_unknown_flow_exits_2(capsys):
    code = main(["simulate", "acme-suport", "--flows", FLOWS, "--audio", AUDIO])
    assert code == 2
    err = capsys.readouterr().err
    assert "no valid flow named 'acme-suport'" in err
    assert "acme-support" in err  # what is loaded


def test_the_installed_command_runs_a_script():
    ivr = REPO / ".venv" / "bin" / "ivr"
    if not ivr.exists():
        pytest.skip("the ivr console script is not installed in .venv")
    result = subprocess.run([str(ivr), "simulate", "acme-support", "--script",
                             str(REPO / "tests" / "scripts" / "order-status-found.yaml")],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "script passed" in result.stderr
    assert "Your order 123456 has shipped" in result.stdout


def test_the_installed_command_fails_a_failing_script(tmp_path):
    ivr = REPO / ".venv" / "bin" / "ivr"
    if not ivr.exists():
        pytest.skip("the ivr console script is not installed in .venv")
    script = tmp_path / "wrong.yaml"
    script.write_text('at: "2026-11-24T15:00:00Z"\nsteps:\n  - expect: "Welcome to Globex"\n', encoding="utf-8")
    result = subprocess.run([str(ivr), "simulate", "acme-support", "--script", str(script)],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert "script step 1" in result.stderr


def run_interactive(lines: str, *extra: str) -> tuple[int, str]:
    args = build_parser().parse_args(["simulate", "acme-support", "--flows", FLOWS, "--audio", AUDIO,
                                      "--at", "2026-11-24T15:00:00Z", *extra])
    out, err = io.StringIO(), io.StringIO()
    code = main_simulate(args, out=out, err=err, stdin=io.StringIO(lines))
    return code, out.getvalue()


def test_interactive_order_status_from_typed_lines():
    code, out = run_interactive("where is my order\n123456\n2\n5\nrecord\n")
    assert code == 0
    assert "Welcome to Acme Outfitters" in out
    assert "Your order 123456 has shipped" in out
    assert "Goodbye" in out
    assert "[the IVR hangs up]" in out


def test_interactive_silence_then_a_person_who_answers():
    code, out = run_interactive("\n\n0\nbusy\nanswered\n")
    assert code == 0
    assert "didn't hear anything" in out
    assert "[transfer 1/3 to client:alice" in out
    assert "[transfer 2/3 to +15005550010" in out
    assert "you are talking to a person now" in out


def test_interactive_rejects_a_bad_transfer_answer_and_hangs_up_at_end_of_input():
    code, out = run_interactive("agent\nmaybe\n")
    assert code == 0
    assert "type one of: answered" in out


def test_interactive_hangup():
    code, out = run_interactive("hangup\n")
    assert code == 0
    assert "you:  (hang up)" in out
    assert "[the IVR hangs up]" not in out  # the caller hung up, not the IVR


def test_interactive_via_cli_main_reads_the_real_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("3\n2\n4\n\n"))
    code = simulate("--at", "2026-11-24T15:00:00Z")
    out = capsys.readouterr().out
    assert code == 0
    assert "Our stores are open now" in out
    assert "Goodbye" in out
