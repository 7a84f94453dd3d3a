"""The settings reference (``ivr.settings.REFERENCE``, written out as docs/SETTINGS.md) lists
every environment variable the package reads: a module under ivr/ that reads one it does
not list fails here, with the file, the line and what to add."""
from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr import settings as settings_module
from ivr.settings import REFERENCE, load_settings, reference_names, settings_markdown

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ivr"
# Reads whose name is not written in the code: each is documented by the reference in its own way.
NAMED_ELSEWHERE = {
    "ivr/settings.py": "the NAME_FILE form of each secret (secret() in load_settings)",
    "ivr/flows/loader.py": "crm.secret_env, a name a flow gives ('Variables your flows name')",
    "ivr/flows/nodes/lookup.py": "${NAME} in a lookup URL ('Variables your flows name')",
}
ENVIRONMENT_NAMES = {"environ", "env"}  # names a module gives os.environ, or a mapping standing for it
READERS = {"getenv", "get", "secret", "number"}  # os.getenv; settings' get(NAME), secret(NAME), number(NAME, ...)


@dataclass(frozen=True)
class Read:
    file: str
    line: int
    name: str | None  # None: the name is computed (a flow's variable, a NAME_FILE form)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.name or '<computed name>'}"


def is_environment(node: ast.AST) -> bool:
    """``os.environ``, or a local ``environ`` / ``env`` standing for it."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in ENVIRONMENT_NAMES


def constant(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def environment_reads(path: Path) -> Iterator[Read]:
    """Every read of the environment in one module: ``os.environ.get(X)``, ``os.environ[X]``,
    ``X in os.environ``, ``os.getenv(X)``, and settings' ``get(X)``, ``secret(X)``, ``number(X, ...)``."""
    file = path.relative_to(ROOT).as_posix()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=file)):
        key: ast.AST | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv", "pop", "setdefault") and (
                    is_environment(func.value) or func.attr == "getenv"):
                key = node.args[0]
            elif isinstance(func, ast.Name) and func.id in READERS:
                key = node.args[0]
                if func.id in ("get", "number", "secret") and constant(key) is None:
                    # settings' helpers with a computed name: only secret()'s NAME_FILE is allowed
                    yield Read(file, node.lineno, None)
                    continue
                if constant(key) is None:
                    continue
        elif isinstance(node, ast.Subscript) and is_environment(node.value):
            key = node.slice
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops) \
                and any(is_environment(c) for c in node.comparators):
            key = node.left
        if key is None:
            continue
        yield Read(file, node.lineno, constant(key))


def all_reads() -> list[Read]:
    return [read for path in sorted(PACKAGE.rglob("*.py")) for read in environment_reads(path)]


def test_the_scan_finds_the_reads_we_know_of():
    names = {read.name for read in all_reads()}
    assert {"TWILIO_AUTH_TOKEN", "IVR_VAR_DIR", "IVR_WATCH_FLOWS", "IVR_VOSK_MODELS", "IVR_MAX_BODY_BYTES"} <= names


def test_every_environment_variable_read_under_ivr_is_in_the_reference():
    documented = reference_names()
    missing = [str(read) for read in all_reads() if read.name is not None and read.name not in documented]
    assert not missing, ("these environment variables are read but not in the settings reference; add a Variable "
                         "for each to REFERENCE in ivr/settings.py, then run "
                         "'python -m ivr.settings --markdown > docs/SETTINGS.md':\n  " + "\n  ".join(missing))


def test_computed_names_are_read_only_where_the_reference_explains_them():
    unexplained = [str(read) for read in all_reads() if read.name is None and read.file not in NAMED_ELSEWHERE]
    assert not unexplained, ("these modules read an environment variable whose name is computed; document where "
                             "the name comes from in ivr/settings.py and add the file to NAMED_ELSEWHERE:\n  "
                             + "\n  ".join(unexplained))


def test_every_secret_of_load_settings_has_its_file_form_documented():
    tree = ast.parse(Path(settings_module.__file__).read_text(encoding="utf-8"))
    secrets = {constant(node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call)
               and isinstance(node.func, ast.Name) and node.func.id == "secret" and node.args}
    assert secrets == {v.name for v in REFERENCE if v.secret}
    assert {f"{name}_FILE" for name in secrets if name} <= reference_names()


class RecordingEnvironment(Mapping[str, str]):
    """An empty environment that remembers every name asked of it."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.asked.add(name)
        return default

    def __contains__(self, name: object) -> bool:
        self.asked.add(str(name))
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_load_settings_asks_the_environment_only_for_documented_names():
    environment = RecordingEnvironment()
    load_settings(environ=environment)
    assert environment.asked, "load_settings read nothing from the environment it was given"
    assert environment.asked <= reference_names(), sorted(environment.asked - reference_names())


def test_every_documented_server_variable_is_read_somewhere():
    read = {r.name for r in all_reads()} | {f"{v.name}_FILE" for v in REFERENCE if v.secret}
    stale = sorted(reference_names(with_dev=False) - read)
    assert not stale, f"documented in REFERENCE but read nowhere under ivr/ (remove them or read them): {stale}"


def test_the_dev_variables_are_read_by_dev():
    script = (ROOT / "dev").read_text(encoding="utf-8")
    for variable in REFERENCE:
        if variable.group == "Read by ./dev only":
            assert "${" + variable.name in script, variable.name


def test_docs_settings_md_is_the_generated_reference():
    written = (ROOT / "docs" / "SETTINGS.md").read_text(encoding="utf-8")
    assert written == settings_markdown(), (
        "docs/SETTINGS.md differs from ivr/settings.py's REFERENCE; run "
        "'python -m ivr.settings --markdown > docs/SETTINGS.md'")


def test_the_readme_points_at_the_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/SETTINGS.md" in readme
