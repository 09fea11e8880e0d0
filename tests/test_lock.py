"""The lock file CI installs from pins every dependency pyproject.toml names, at a version its
floor admits, and names no package index."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / ".ci" / "requirements.lock"


def pins() -> dict[str, str]:
    found = {}
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def test_every_dependency_is_pinned_within_its_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"],
              *project["optional-dependencies"]["bench"]]
    locked = pins()
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in the lock file"
        assert requirement.specifier.contains(locked[name], prereleases=True), (name,
                                                                               locked[name])


def test_the_lock_names_no_index_or_host():
    text = LOCK.read_text()
    assert not re.search(r"^\s*-(-index-url|-extra-index-url|i|-find-links|f|-trusted-host)",
                         text, re.MULTILINE)
    assert "://" not in text
