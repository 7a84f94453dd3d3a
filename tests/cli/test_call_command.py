"""``ivr call FLOW``: the real command calls a real ``ivr serve`` over HTTP, signed like
Twilio, interactively or from a script, and finds the demo token of ``./dev demo``."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cli_run import REPO, Server, run_ivr

TOKEN = "a-test-token-for-signatures"
SCRIPT = """\
caller: "+15551239999"
steps:
  - expect: "welcome"
  - press: "1"
  - expect: "six digit order number"
  - say: "one two three four five six"
  - expect: "has shipped"
  - hangup
  - expect_end
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "IVR_"))}
    return {**env, **extra}


LINE = """\
flow: test-line
numbers: ["+15005550006"]
operator: {digit: "0", phrases: [agent], to: desk}
retry: {no_input: 2, no_match: 2, then: desk}
start: main
nodes:
  main:
    menu:
      prompt: {audio: audio/welcome.wav, text: "Welcome to the test line."}
      reprompt: "Press 1 or say order status."
      options:
        - {keys: "1", say: [order status], go: order}
  order:
    collect:
      prompt: "Please say or key in your six digit order number."
      slot: {name: order_id, kind: digits, length: 6}
      go: status
  status:
    say: "Your order {order_id} has shipped."
    go: goodbye
  goodbye:
    hangup: "Thanks for calling. Goodbye."
  desk:
    transfer: {to: ["+15005550010"], reason: "Caller asked for a person", fallback: message}
  message:
    voicemail: {prompt: "Please leave a message after the tone."}
"""


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """A line open at every hour (the demo line's welcome depends on the time), served from
    another folder, its token in var/demo-auth-token as ./dev demo makes it."""
    home = tmp_path_factory.mktemp("line")
    project = home / "project"
    (project / "call_flows").mkdir(parents=True)
    (project / "call_flows" / "test-line.yaml").write_text(LINE)
    (project / "audio").mkdir()
    shutil.copy(REPO / "audio" / "welcome.wav", project / "audio" / "welcome.wav")
    (home / "var").mkdir()
    token_file = home / "var" / "demo-auth-token"
    token_file.write_text(TOKEN + "\n")
    server = Server({"IVR_FLOWS_DIR": str(project / "call_flows"), "IVR_VAR_DIR": str(home / "var"),
                     "TWILIO_AUTH_TOKEN_FILE": str(token_file), "IVR_STREAM_SPEECH": "false"}, cwd=home)
    assert server.wait_ready(), server.stop()
    yield server, home
    server.stop()


def call(line, *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None):
    import subprocess

    from cli_run import ivr_command
    server, home = line
    return subprocess.run([*ivr_command(), "call", *args, "--url", server.base], input=stdin, capture_output=True,
                          text=True, cwd=cwd or home, env=env or clean_env(), timeout=120)


def test_a_script_runs_against_the_running_line_with_the_demo_token(line, tmp_path):
    script = tmp_path / "order.yaml"
    script.write_text(SCRIPT)
    done = call(line, "test-line", "--script", str(script))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "script passed" in done.stderr
    assert "(plays the recording audio/welcome.wav)" in done.stdout
    assert "Your order 123456 has shipped" in done.stdout and "you:  (presses 1)" in done.stdout


def test_a_failed_expectation_says_what_was_heard(line, tmp_path):
    script = tmp_path / "wrong.yaml"
    script.write_text('steps:\n  - press: "1"\n  - expect: "your balance"\n')
    done = call(line, "test-line", "--script", str(script), env=clean_env(TWILIO_AUTH_TOKEN=TOKEN))
    assert done.returncode == 1
    assert "script step 2: expected to hear 'your balance'" in done.stderr and "order number" in done.stderr


def test_typed_keys_words_and_silence(line):
    done = call(line, "test-line", stdin="1\n\n123456#\n")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Keys: type them" in out and "(plays the recording audio/welcome.wav)" in out
    assert "(silence)" in out and "Sorry, I didn't hear anything" in out
    assert out.index("six digit order number") < out.index("Your order 123456 has shipped")
    assert "Goodbye" in out and "[the call ended: hangup]" in out


def test_a_wrong_token_is_refused_by_the_line_and_said_plainly(line, tmp_path):
    script = tmp_path / "order.yaml"
    script.write_text(SCRIPT)
    done = call(line, "test-line", "--script", str(script), env=clean_env(TWILIO_AUTH_TOKEN="not-the-token"))
    assert done.returncode == 1
    assert "refused the call's signature" in done.stderr and "Traceback" not in done.stderr


def test_mistakes_are_usage_errors_with_what_to_type(line, tmp_path):
    done = call(line, "test-lien")
    assert done.returncode == 2 and "did you mean 'test-line'?" in done.stderr
    done = call(line, "test-line", cwd=tmp_path)  # no token here, none in the environment
    assert done.returncode == 2 and "TWILIO_AUTH_TOKEN" in done.stderr and "./dev demo" in done.stderr


def test_nothing_listening_is_said_plainly(tmp_path):
    from cli_run import free_port
    done = run_ivr("call", "test-line", "--url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path,
                   env=clean_env(TWILIO_AUTH_TOKEN=TOKEN))
    assert done.returncode == 2 and "nothing answers at" in done.stderr and "./dev demo" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_flow_without_a_number_of_its_own_is_reached_from_another():
    from ivr.callcli import CallFailed, number_of
    facts = {"flows": [{"name": "acme-support", "numbers": ["+15005550006"]}, {"name": "acme-support-ko", "numbers": []}]}
    assert number_of(facts, "acme-support") == "+15005550006"
    with pytest.raises(CallFailed, match=r"reached from another flow; call one with a number \(acme-support\)"):
        number_of(facts, "acme-support-ko")


def test_a_transfer_rings_and_ends_as_the_caller_says(line, tmp_path):
    script = tmp_path / "operator.yaml"
    script.write_text('steps:\n  - press: "0"\n  - expect_transfer: "+15005550010"\n  - transfer: busy\n'
                      '  - expect: "after the tone"\n  - record\n  - expect_end\n')
    done = call(line, "test-line", "--script", str(script))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[the line is ringing +15005550010]" in done.stdout
    done = call(line, "test-line", stdin="0\n\n")  # an empty answer: a person takes the call
    assert done.returncode == 0, done.stdout + done.stderr
    assert "AGENT hears:" in done.stdout and "AGENT:  (presses 1)" in done.stdout
    assert "[the caller talked to a person]" in done.stdout
