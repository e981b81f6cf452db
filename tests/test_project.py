"""What the repository promises about itself: pins recorded, lock hashed, README commands first."""

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]+\])?==([^;\s]+)$")


def direct_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"not pinned with ==: {requirement}"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def test_every_direct_dependency_is_in_versions_md() -> None:
    versions = (ROOT / "VERSIONS.md").read_text()
    rows = {
        cells[0].split(" (")[0].strip().lower(): cells[1].strip()
        for line in versions.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
        for cells in [line.strip("|").split("|")]
    }
    for name, version in direct_pins().items():
        assert rows.get(name) == version, f"VERSIONS.md lacks {name}=={version}"
        row = next(line for line in versions.splitlines() if line.lower().startswith(f"| {name}"))
        assert "https://" in row, f"VERSIONS.md gives no docs link for {name}"


def test_the_lock_holds_every_pin_with_hashes_and_no_addresses() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    locked = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    for name, version in direct_pins().items():
        assert locked.get(name.replace("_", "-")) == version, f"{name} not locked at {version}"
    entries = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2])
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)
    assert "://" not in lock
    assert not (ROOT / "uv.lock").exists()


def test_no_tracked_file_names_a_package_registry() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    # Spelled in pieces so that this file does not name them either.
    registries = tuple(
        ".".join(parts)
        for parts in (("pypi", "org"), ("pythonhosted", "org"), ("npmjs", "org"), ("debian", "org"))
    )
    for name in tracked:
        path = ROOT / name
        if path.is_file():
            text = path.read_text(errors="ignore")
            assert not any(host in text for host in registries), name


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make dev", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_the_workbench_build_leaves_the_tracked_files_as_committed() -> None:
    """`make install` builds the frontend, which writes `reflex.lock/`: a fresh clone's
    `git status` stays clean after the README's two commands."""
    if not (ROOT / ".web" / "agent-runtime-build.json").exists():
        pytest.skip("the workbench has not been built here (make install builds it)")
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "reflex.lock", "rxconfig.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert changed == ""
