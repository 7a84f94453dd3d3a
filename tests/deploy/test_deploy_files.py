"""The deployment files: every variable they set is a documented setting, and they parse.

Dockerfile and compose.yaml may only set variables that ``ivr.settings.REFERENCE`` (and so
docs/SETTINGS.md) lists: an undocumented name is a typo the line would silently ignore.
``docker compose config`` (or ``docker-compose config``) and ``nginx -t`` run where they
are installed.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ivr.settings import reference_names

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx.conf"


def dockerfile_lines() -> list[str]:
    """Instructions of the Dockerfile, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        current += " " + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            joined.append(current.strip())
            current = ""
    return joined


def dockerfile_env_names() -> set[str]:
    names = set()
    for line in dockerfile_lines():
        if line.upper().startswith("ENV "):
            words = shlex.split(line[4:])
            if len(words) >= 2 and "=" not in words[0]:  # the old form: ENV NAME value
                names.add(words[0])
            else:
                names |= {word.split("=", 1)[0] for word in words}
    return names


def line_services() -> dict[str, dict]:
    """compose.yaml's services built from this repository's Dockerfile."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return {name: spec for name, spec in services.items() if "build" in spec}


def compose_env_names() -> set[str]:
    names: set[str] = set()
    for spec in line_services().values():
        env = spec.get("environment", {})
        names |= set(env) if isinstance(env, dict) else {item.split("=", 1)[0] for item in env}
    return names


def test_the_dockerfile_sets_only_documented_settings() -> None:
    names = dockerfile_env_names()
    assert names, "the Dockerfile sets no IVR_* variable"
    assert names <= reference_names(with_dev=False), names - reference_names(with_dev=False)


def test_compose_sets_only_documented_settings() -> None:
    names = compose_env_names()
    assert {"IVR_STORE", "IVR_SECRET_KEY_FILE", "TWILIO_AUTH_TOKEN_FILE", "IVR_PUBLIC_URL"} <= names
    assert names <= reference_names(with_dev=False), names - reference_names(with_dev=False)


def test_every_name_set_is_in_the_settings_page() -> None:
    page = (ROOT / "docs" / "SETTINGS.md").read_text()
    for name in dockerfile_env_names() | compose_env_names():
        assert f"`{name}`" in page, name


def test_the_dockerfile_installs_the_lock_file_and_runs_gunicorn_with_its_config() -> None:
    lines = dockerfile_lines()
    assert lines[0].startswith("FROM python:3.11-slim")
    runs = " ".join(line for line in lines if line.startswith("RUN "))
    assert "--require-hashes -r requirements/run.txt" in runs
    assert "--no-deps ." in runs
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    assert any(line.startswith("CMD") and '"gunicorn", "-c"' in line and "gunicorn.conf.py" in line for line in lines)
    assert any(line.startswith("USER ") and "root" not in line for line in lines)


def test_compose_runs_the_line_with_redis_and_postgresql_and_checks_their_health() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) >= {"line", "redis", "postgres"}
    for name, spec in services.items():
        assert "healthcheck" in spec, name
    line = services["line"]
    assert line["environment"]["IVR_STORE"].startswith("redis://redis:")
    assert line["environment"]["IVR_RECORDS_URL"].startswith("postgresql://")
    assert {dep: cond["condition"] for dep, cond in line["depends_on"].items()} == {
        "redis": "service_healthy", "postgres": "service_healthy"}
    assert all(port.startswith("127.0.0.1:") for port in line.get("ports", []))


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed")
    env = {**os.environ, "IVR_PUBLIC_URL": "https://ivr.example.com", "IVR_POSTGRES_PASSWORD": "compose-test"}
    done = subprocess.run([*command, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "redis://redis:6379/0" in done.stdout
    missing = subprocess.run([*command, "-f", str(COMPOSE), "config"], capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in env.items() if k != "IVR_PUBLIC_URL"}, cwd=str(ROOT))
    assert missing.returncode != 0 and "IVR_PUBLIC_URL" in missing.stderr


def test_nginx_proxies_websockets_and_server_sent_events() -> None:
    text = NGINX.read_text()
    media = re.search(r"location = /twilio/media \{(.*?)\}", text, re.S)
    events = re.search(r"location /console/events \{(.*?)\}", text, re.S)
    assert media and events
    assert "proxy_set_header Upgrade    $http_upgrade;" in media.group(1)
    assert "proxy_set_header Connection $connection_upgrade;" in media.group(1)
    assert "proxy_buffering off;" in events.group(1)
    assert "proxy_pass http://ivr_line;" in text and "server 127.0.0.1:8080;" in text


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx (apt-get install nginx-light) or openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=ivr.example.com"], check=True, capture_output=True, timeout=60)
    site = NGINX.read_text().replace("/etc/letsencrypt/live/ivr.example.com/fullchain.pem", str(cert)) \
        .replace("/etc/letsencrypt/live/ivr.example.com/privkey.pem", str(key))
    (tmp_path / "ivr.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/ivr.conf;\n}}\n")
    done = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_deploy_guide_names_the_files() -> None:
    guide = (ROOT / "docs" / "DEPLOY.md").read_text()
    for name in ("gunicorn.conf.py", "Dockerfile", "compose.yaml", "deploy/nginx.conf", "IVR_SECRET_KEY"):
        assert name in guide, name
