"""Settings fail closed: only an explicit false word turns signature checks off, a server is
told loudly what is unsafe at start, and ``ivr doctor`` fails while checks are off."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from ivr.doctor import run_doctor
from ivr.settings import Settings, SettingsError, load_settings, startup_warnings

SAFE = {"TWILIO_AUTH_TOKEN": "token-of-the-account", "IVR_SECRET_KEY": "a-long-stable-secret-key"}


def settings(**values: str) -> Settings:
    return load_settings(config=values, environ={})


@pytest.mark.parametrize("value", ["false", "FALSE", " False ", "0", "no", "No", "off", " OFF\n"])
def test_only_an_explicit_false_turns_signature_checks_off(value):
    assert settings(IVR_VALIDATE_SIGNATURES=value).validate_signatures is False


@pytest.mark.parametrize("value", ["", "   ", "true", "1", "yes", "on", "flase", "disabled", "none"])
def test_any_other_value_keeps_signature_checks_on(value):
    assert settings(IVR_VALIDATE_SIGNATURES=value).validate_signatures is True


def test_a_blank_line_in_an_env_file_keeps_checks_on():
    assert load_settings(environ={"IVR_VALIDATE_SIGNATURES": ""}).validate_signatures is True
    assert load_settings(environ={}).validate_signatures is True


def test_a_python_false_in_config_turns_checks_off():
    assert load_settings(config={"IVR_VALIDATE_SIGNATURES": False}, environ={}).validate_signatures is False


def test_blank_values_mean_their_defaults():
    s = settings(IVR_STREAM_SPEECH="", IVR_WATCH_FLOWS="", IVR_MAX_BODY_BYTES=" ", IVR_TWILIO_TIMEOUT="",
                 IVR_FLOWS_DIR="", IVR_AUDIO_DIR=" ", IVR_VAR_DIR="")
    assert s.stream_speech is True and s.watch_flows is False
    assert s.max_body_bytes == 64 * 1024 and s.twilio_timeout == 5.0
    assert (s.flows_dir, s.audio_dir, s.var_dir) == (Path("call_flows"), Path("audio"), Path("var"))
    assert settings(IVR_WATCH_FLOWS="1").watch_flows is True
    assert settings(IVR_STREAM_SPEECH="off").stream_speech is False


def test_a_malformed_number_names_the_variable_and_what_to_type():
    with pytest.raises(SettingsError, match=r"IVR_MAX_BODY_BYTES='64k' is not a whole number; set it like "
                                            r"IVR_MAX_BODY_BYTES=65536"):
        settings(IVR_MAX_BODY_BYTES="64k")
    with pytest.raises(SettingsError, match="IVR_FAILED_SIGNATURE_WINDOW"):
        settings(IVR_FAILED_SIGNATURE_WINDOW="a minute")


def test_the_var_dir_comes_from_config_like_every_other_setting(tmp_path):
    s = settings(IVR_VAR_DIR=str(tmp_path))
    assert s.var_dir == tmp_path
    assert s.store_url == f"sqlite:///{tmp_path / 'calls.sqlite3'}"


def test_a_safe_deployment_has_no_startup_warnings():
    assert startup_warnings(settings(**SAFE)) == []


def test_signature_checks_off_is_a_loud_startup_warning():
    warnings = startup_warnings(settings(**SAFE, IVR_VALIDATE_SIGNATURES="off"))
    assert len(warnings) == 1
    assert "SIGNATURE CHECKS ARE OFF" in warnings[0] and "Remove IVR_VALIDATE_SIGNATURES" in warnings[0]


def test_a_missing_auth_token_and_secret_key_are_startup_warnings():
    warnings = startup_warnings(settings())
    assert [w.split(":")[0] for w in warnings] == ["TWILIO_AUTH_TOKEN is not set", "IVR_SECRET_KEY is not set"]
    assert "every webhook is refused (403)" in warnings[0] and "TWILIO_AUTH_TOKEN_FILE" in warnings[0]
    assert "IVR_SECRET_KEY_FILE" in warnings[1] and "token_hex" in warnings[1]


def test_a_secret_key_from_a_file_counts_as_set(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-a-mounted-secret\n")
    s = settings(IVR_SECRET_KEY_FILE=str(key_file))
    assert s.secret_key == "from-a-mounted-secret" and not s.secret_key_is_random
    assert settings().secret_key_is_random and len(settings().secret_key) == 64


def test_warnings_never_show_a_secret():
    s = settings(TWILIO_AUTH_TOKEN="tok-123456", IVR_SECRET_KEY="key-abcdef", IVR_VALIDATE_SIGNATURES="false")
    text = "\n".join(startup_warnings(s))
    assert "tok-123456" not in text and "key-abcdef" not in text


def doctor(config: dict[str, str]) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run_doctor(out, config=config, environ={}, timeout=0.5)
    return code, out.getvalue().splitlines()


def test_doctor_fails_while_signature_checks_are_off(tmp_path):
    code, lines = doctor({**SAFE, "IVR_VALIDATE_SIGNATURES": "0", "IVR_STORE": f"sqlite:///{tmp_path}/calls.db",
                          "IVR_FLOWS_DIR": str(tmp_path)})
    assert code == 1
    line = next(line for line in lines if "signature checks" in line)
    assert line.startswith("FAIL") and "IVR_VALIDATE_SIGNATURES" in line and "remove IVR_VALIDATE_SIGNATURES" in line


def test_doctor_reports_signature_checks_on_when_the_value_is_blank(tmp_path):
    _, lines = doctor({**SAFE, "IVR_VALIDATE_SIGNATURES": "", "IVR_STORE": f"sqlite:///{tmp_path}/calls.db",
                       "IVR_FLOWS_DIR": str(tmp_path)})
    assert "OK    signature checks are on" in lines
    assert "OK    IVR_SECRET_KEY is set" in lines
