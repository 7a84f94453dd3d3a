"""A flow that does not load never hands its numbers to another flow, and recordings are
found beside the flows folder whatever folder the line was started in."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.flows.library import FlowLibrary, FlowRefused, NoFlow
from ivr.settings import audio_beside, load_settings

from conftest import CALL_FLOWS, REPO

ENGLISH, KOREAN = "+15005550006", "+15005550007"


def flow_file(name: str, numbers: list[str], *, audio: str = "", default: bool = False) -> str:
    prompt = f"{audio} | \"Welcome to {name}\"" if audio else f"Welcome to {name}"
    return (f"flow: {name}\nnumbers: [{', '.join(repr(n) for n in numbers)}]\n"
            + ("default: true\n" if default else "")
            + "operator: {digit: '0', to: desk}\nstart: main\nnodes:\n"
            f"  main:\n    say: '{prompt}'\n    go: desk\n"
            "  desk:\n    transfer: {to: ['+15005550010'], reason: 'Caller asked for a person'}\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with an English flow that plays a recording and a Korean flow."""
    (tmp_path / "call_flows").mkdir()
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "welcome.wav").write_bytes(b"RIFF")
    (tmp_path / "call_flows" / "english.yaml").write_text(
        flow_file("english", [ENGLISH], audio="audio/welcome.wav", default=True))
    (tmp_path / "call_flows" / "korean.yaml").write_text(flow_file("korean", [KOREAN]))
    return tmp_path


def test_a_broken_flow_keeps_its_numbers_from_the_only_flow_left(project, tmp_path):
    library = FlowLibrary(project / "call_flows", tmp_path / "elsewhere")  # the recording is not found
    problems = library.reload()
    assert any("welcome.wav" in p.message for p in problems)
    assert sorted(library.flows) == ["korean"]
    assert library.for_number(KOREAN).name == "korean"
    with pytest.raises(FlowRefused, match=r"english\.yaml.*did not load.*audio file"):
        library.for_number(ENGLISH)
    with pytest.raises(NoFlow):  # the broken flow was the default: no number goes to Korean by default
        library.for_number("+15005559999")
    assert [r.name for r in library.refused] == ["english"]
    refusal = library.startup_problems()
    assert refusal is not None and "english.yaml" in str(refusal) and "welcome.wav" in str(refusal)


def test_numbers_written_without_quotes_are_still_claimed(project):
    (project / "call_flows" / "english.yaml").write_text(
        flow_file("english", [ENGLISH]).replace(f"'{ENGLISH}'", ENGLISH).replace("go: desk\n  desk", "go: dsk\n  desk"))
    library = FlowLibrary(project / "call_flows", project / "audio")
    library.reload()
    with pytest.raises(FlowRefused):
        library.for_number(ENGLISH)
    assert library.for_number("+15005559999").name == "korean"  # not claimed by the broken file


def test_a_file_whose_numbers_cannot_be_read_stops_every_stand_in(project):
    (project / "call_flows" / "english.yaml").write_text("flow: english\nnumbers: [+1500\n  nodes: {")
    library = FlowLibrary(project / "call_flows", project / "audio")
    library.reload()
    with pytest.raises(FlowRefused):
        library.for_number(ENGLISH)
    assert library.for_number(KOREAN).name == "korean"


def test_a_broken_edit_keeps_the_last_good_version_and_its_numbers(project):
    library = FlowLibrary(project / "call_flows", project / "audio")
    assert library.startup_problems() is not None  # never loaded
    library.reload()
    assert library.startup_problems() is None
    good = library.for_number(ENGLISH)
    (project / "call_flows" / "english.yaml").write_text(flow_file("english", [ENGLISH], audio="audio/gone.wav"))
    library.reload()
    assert library.for_number(ENGLISH) is good
    assert library.refused == []


def test_no_flows_at_all_is_a_refusal_that_names_the_setting(tmp_path):
    library = FlowLibrary(tmp_path / "nowhere", tmp_path)
    library.reload()
    refusal = library.startup_problems()
    assert refusal is not None and "IVR_FLOWS_DIR" in str(refusal) and "no such folder" in str(refusal)


def test_recordings_are_found_beside_the_flows_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"IVR_FLOWS_DIR": str(CALL_FLOWS)}, environ={})
    assert settings.audio_dir == REPO / "audio"
    library = FlowLibrary(settings.flows_dir, settings.audio_dir)
    assert [p for p in library.reload() if p.severity == "error"] == []
    assert sorted(library.flows) == ["acme-support", "acme-support-ko"]


def test_ivr_audio_dir_wins_and_the_defaults_read_as_before(tmp_path):
    assert load_settings({"IVR_AUDIO_DIR": str(tmp_path)}, environ={}).audio_dir == tmp_path
    assert load_settings({}, environ={}).audio_dir == Path("audio")
    assert audio_beside(Path("/srv/line/call_flows")) == Path("/srv/line/audio")
    assert audio_beside(Path(".")) == Path.cwd().parent / "audio"


def test_a_copied_project_validates_from_any_folder(tmp_path, monkeypatch):
    copy = tmp_path / "line"
    shutil.copytree(CALL_FLOWS, copy / "call_flows")
    shutil.copytree(REPO / "audio", copy / "audio")
    monkeypatch.chdir(tmp_path)
    library = FlowLibrary(copy / "call_flows", audio_beside(copy / "call_flows"))
    library.reload()
    assert library.startup_problems() is None
