"""The packages of ``ivr`` follow its layers: each may import only the layers below it,
and no two packages import each other. The table below is the architecture (see
ARCHITECTURE.md); a new import across layers fails here before it lands."""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ivr"

# unit -> the units it may import (a unit is a subpackage or a top-level module of ivr)
LOWER = {
    # 1. nouns
    "model": set(),
    # 2. understanding and the detector
    "understanding": {"model"},
    "escalation": {"model", "understanding"},
    # 3. the flow language, with its node kinds
    "flows": {"model", "understanding"},
    # 4. the engine
    "engine": {"model", "understanding", "escalation", "flows"},
    # 5. runtime (lookups, following the engine) and rendering
    "runtime": {"model", "engine", "flows"},
    "twiml": {"model"},
    # leaves the shells use: no knowledge of calls beyond the nouns
    "settings": set(),
    "logs": set(),
    "native": set(),
    "store": set(),
    "speech": {"native"},
    "telephony": {"model"},
    "records": {"model", "native"},
}
SHELLS = {"web", "cli", "callcli", "simulate", "evaluation", "doctor", "testing"}
BELOW_SHELLS = set(LOWER)
ALLOWED = {**LOWER, **{shell: BELOW_SHELLS | SHELLS - {shell} for shell in SHELLS}}
ALLOWED["evaluation"] = {"model", "engine", "flows"}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (PACKAGE.parent / rel / "__init__.py").is_file()


def imports() -> dict[str, set[tuple[str, str]]]:
    """unit -> {(imported unit, 'file:line')} over every import statement, lazy ones included."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = _module_of(path)
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if _is_module(f"{source}.{a.name}") else source for a in node.names]
            for target in targets:
                if target.startswith("ivr.") and _unit(target) != _unit(module) and _unit(module):
                    found[_unit(module)].add((_unit(target), f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"))
    return found


def test_every_unit_of_the_package_has_a_layer():
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert units - set(ALLOWED) == set(), "give the new package a layer in this table and in ARCHITECTURE.md"


def test_each_layer_imports_only_the_layers_below_it():
    wrong = sorted(f"{where}: {unit} imports {target}"
                   for unit, found in imports().items() for target, where in found
                   if target not in ALLOWED.get(unit, set()))
    assert wrong == []


def test_no_two_packages_import_each_other():
    graph = {unit: {t for t, _ in found} for unit, found in imports().items()}
    seen: dict[str, int] = {}
    cycle: list[str] = []

    def visit(unit: str, trail: list[str]) -> bool:
        seen[unit] = 1
        for nxt in sorted(graph.get(unit, ())):
            if seen.get(nxt) == 1:
                cycle.extend(trail[trail.index(nxt):] + [unit, nxt] if nxt in trail else [unit, nxt])
                return True
            if nxt not in seen and visit(nxt, [*trail, unit]):
                return True
        seen[unit] = 2
        return False

    for unit in sorted(graph):
        if unit not in seen and visit(unit, []):
            break
    assert cycle == [], " -> ".join(cycle)


@pytest.mark.parametrize("module", ["ivr.engine", "ivr.model", "ivr.flows.loader", "ivr.twiml"])
def test_the_core_loads_without_web_store_or_network_libraries(module):
    """The engine and the nouns do no I/O: importing them alone pulls in no web
    framework, database driver, HTTP client or websocket library."""
    code = (f"import sys, {module}; bad = [m for m in ('flask', 'sqlite3', 'redis', 'requests', 'flask_sock', "
            f"'simple_websocket', 'urllib3') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    if module == "ivr.twiml":  # the twilio SDK's builder brings its own dependencies; ours must not add any
        out = ",".join(m for m in out.split(",") if m in ("flask", "sqlite3", "redis", "flask_sock"))
    assert out == ""


def test_the_engine_declares_its_public_api():
    import ivr.engine

    assert sorted(ivr.engine.__all__) == sorted(["step", "resume", "enter_flow", "rescue", "UnexpectedEvent",
                                                  "FlowLoop"])
