"""``ivr validate`` as ops see it: output format and exit codes of ``run_validate``."""
from __future__ import annotations

import io
import shutil

import yaml

from ivr.flows.report import run_validate

from conftest import AUDIO, BROKEN, CALL_FLOWS, GOOD


def validate(*paths, audio=AUDIO):
    out, err = io.StringIO(), io.StringIO()
    code = run_validate([str(p) for p in paths], out, err, audio_dir=audio)
    return code, out.getvalue(), err.getvalue()


def test_a_clean_flow_exits_0_with_a_summary():
    code, out, err = validate(GOOD / "tricky_but_valid.yaml")
    assert code == 0
    assert out == "1 file, 1 flow ok, 0 errors, 0 warnings\n"
    assert err == ""


def test_the_shipped_flows_validate_clean_as_a_folder():
    code, out, _ = validate(CALL_FLOWS, audio=CALL_FLOWS.parent / "audio")
    assert code == 0, out
    n = len(list(CALL_FLOWS.glob("*.y*ml")))
    assert out.splitlines()[-1].startswith(f"{n} file{'s' if n != 1 else ''}, {n} flow")


def test_an_error_shows_file_line_col_the_line_a_caret_and_the_hint():
    path = BROKEN / "dangling_go.yaml"
    code, out, _ = validate(path)
    assert code == 1
    assert out.splitlines() == [
        f"{path}:17:11: error: 'order_lokup' is not a node of this flow (go of order)",
        "          go: order_lokup",
        "              ^",
        "    hint: did you mean 'order_lookup'?",
        "1 file, 0 flows ok, 1 error, 0 warnings",
    ]


def test_warnings_are_shown_but_do_not_fail():
    code, out, _ = validate(BROKEN / "transfer_no_fallback.yaml")
    assert code == 0
    assert ":15:11: warning: when nobody answers transfer 'desk'" in out
    assert out.endswith("1 file, 1 flow ok, 0 errors, 1 warning\n")


def test_every_error_of_every_file_is_printed(tmp_path):
    for name in ("five_mistakes.yaml", "say_loop.yaml"):
        shutil.copy(BROKEN / name, tmp_path / name)
    shutil.copy(GOOD / "tricky_but_valid.yaml", tmp_path / "ok.yml")
    (tmp_path / "notes.txt").write_text("not a flow")
    code, out, _ = validate(tmp_path)
    assert code == 1
    assert out.count(": error: ") == 6
    assert out.count("    hint: ") >= 6
    assert out.splitlines()[-1] == "3 files, 1 flow ok, 6 errors, 0 warnings"
    first = out.index("five_mistakes.yaml:14:7")
    assert first < out.index("five_mistakes.yaml:26:12") < out.index("say_loop.yaml:7:3")


def test_a_missing_path_is_a_usage_error():
    code, out, err = validate(GOOD / "tricky_but_valid.yaml", "no/such/flow.yaml")
    assert code == 2
    assert out == ""
    assert "no such file or directory: no/such/flow.yaml" in err


def test_a_folder_without_flows_is_a_usage_error(tmp_path):
    code, _, err = validate(tmp_path)
    assert code == 2 and "no flow files" in err


def test_the_default_path_is_call_flows(monkeypatch):
    monkeypatch.chdir(CALL_FLOWS.parent)
    out, err = io.StringIO(), io.StringIO()
    assert run_validate([], out, err, audio_dir=CALL_FLOWS.parent / "audio") == 0
    assert "flow" in out.getvalue() and err.getvalue() == ""


def test_a_crash_inside_the_loader_is_an_internal_error_line_not_a_traceback(tmp_path, monkeypatch):
    path = tmp_path / "flow.yaml"
    shutil.copy(GOOD / "tricky_but_valid.yaml", path)

    def broken_compose(*args, **kwargs):  # PyYAML failing in a way it never should
        raise RuntimeError("boom")

    monkeypatch.setattr(yaml, "compose", broken_compose)
    code, out, err = validate(path)
    assert code == 1
    assert out.startswith(f"{path}:1:1: error: internal error while checking this file: RuntimeError('boom')")
    assert "Traceback" not in out + err
