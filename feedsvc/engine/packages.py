"""Argos Translate packages: install (index or file), list, remove — through
argostranslate's own package code, pointed at our packages folder."""

from __future__ import annotations

import shutil
import threading
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import cast

# BCP 47 tags → Argos language codes where they differ.
ARGOS_CODES = {"zh-Hans": "zh", "zh-Hant": "zt", "pt-BR": "pb"}
_configure_lock = threading.Lock()


class PackageError(Exception):
    """A package could not be installed or found; the message says what to do."""


def argos_code(tag: str) -> str:
    """Argos Translate's code for a BCP 47 tag, as its packages name languages (zh-Hans → zh)."""
    return ARGOS_CODES.get(tag, tag.split("-")[0].lower())


@dataclass(frozen=True)
class InstalledPackage:
    """An installed Argos package, as ``feedsvc models`` lists it and the engine loads it."""

    from_code: str
    to_code: str
    version: str
    path: Path

    @property
    def name(self) -> str:
        """Argos's own package name, so operators can match it with the Argos index."""
        return f"translate-{self.from_code}_{self.to_code}"

    @property
    def label(self) -> str:
        """The engine label stored with each translation, so reviewers see what made it."""
        return f"argos {self.name} {self.version}"


def argos_package_module(packages_dir: Path) -> ModuleType:
    """argostranslate.package with its settings pointed at ``packages_dir``.

    Its settings module reads ARGOS_PACKAGES_DIR once, at import; setting the attributes
    afterwards is what its own functions read at call time."""
    with _configure_lock:
        from argostranslate import package, settings

        packages_dir.mkdir(parents=True, exist_ok=True)
        settings.package_data_dir = packages_dir
        settings.package_dirs = [packages_dir]
        return cast(ModuleType, package)  # argostranslate has no types: its modules are Any


class Packages:
    """Installs and removes Argos packages in feedsvc's own directory, not the user's."""

    def __init__(self, packages_dir: Path) -> None:
        self.dir = packages_dir

    def installed(self) -> list[InstalledPackage]:
        """The translate packages installed, ordered by language pair for stable listings."""
        package = argos_package_module(self.dir)
        return sorted(
            (
                InstalledPackage(p.from_code, p.to_code, p.package_version, p.package_path)
                for p in package.get_installed_packages()
                if getattr(p, "type", "translate") == "translate"
            ),
            key=lambda p: (p.from_code, p.to_code),
        )

    def find(self, source_tag: str, target_tag: str) -> InstalledPackage | None:
        """The package for a language pair by tag, or None: whether a language can be translated."""
        wanted = (argos_code(source_tag), argos_code(target_tag))
        return next((p for p in self.installed() if (p.from_code, p.to_code) == wanted), None)

    def install_file(self, path: Path) -> InstalledPackage:
        """Install a .argosmodel file (what argostranslate's install_from_path does, minus its
        final cache clearing, which imports argostranslate.translate and so stanza)."""
        package = argos_package_module(self.dir)
        if not zipfile.is_zipfile(path):
            raise PackageError(f"{path} is not an .argosmodel file (not a zip archive)")
        with zipfile.ZipFile(path) as archive:
            tops = {name.split("/", 1)[0] for name in archive.namelist()}
            if len(tops) != 1:
                raise PackageError(f"{path} must hold exactly one package folder")
            with package.package_lock:
                archive.extractall(self.dir)
        (top,) = tops
        try:
            installed = package.Package(self.dir / top)
        except (FileNotFoundError, KeyError, ValueError) as exc:
            shutil.rmtree(self.dir / top, ignore_errors=True)
            raise PackageError(f"{path} is not a valid Argos package: {exc}") from exc
        return InstalledPackage(
            installed.from_code,
            installed.to_code,
            installed.package_version,
            installed.package_path,
        )

    def install_from_index(self, source_tag: str, target_tag: str) -> InstalledPackage:
        """Downloads a pair's package from the Argos index, for hosts with no model file at hand."""
        package = argos_package_module(self.dir)
        from argostranslate import settings

        try:
            with urllib.request.urlopen(settings.remote_package_index, timeout=15) as response:
                Path(settings.local_package_index).write_bytes(response.read())
        except (urllib.error.URLError, OSError) as exc:
            raise PackageError(
                f"cannot reach the Argos package index at {settings.remote_package_index} "
                f"({exc}); download the .argosmodel file elsewhere and run "
                f"'feedsvc models install FILE.argosmodel'"
            ) from exc
        wanted = (argos_code(source_tag), argos_code(target_tag))
        available = [
            p for p in package.get_available_packages() if (p.from_code, p.to_code) == wanted
        ]
        if not available:
            raise PackageError(
                f"the Argos package index has no {source_tag} → {target_tag} package"
            )
        newest = max(available, key=lambda p: _version_key(p.package_version))
        try:
            downloaded = Path(newest.download())
        except Exception as exc:  # argostranslate raises a bare Exception on failure
            raise PackageError(f"downloading {newest} failed: {exc}") from exc
        return self.install_file(downloaded)

    def remove(self, source_tag: str, target_tag: str) -> InstalledPackage:
        """Deletes a pair's package under Argos's lock, so a concurrent install does not clash."""
        found = self.find(source_tag, target_tag)
        if found is None:
            raise PackageError(f"no {source_tag} → {target_tag} package is installed")
        package = argos_package_module(self.dir)
        with package.package_lock:
            shutil.rmtree(found.path)
        return found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())
