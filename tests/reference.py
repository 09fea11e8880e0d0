"""Zendesk's own OpenAPI descriptions (../shared/reference beside the repository), for tests
that feed documented examples through the adapter and check the sandbox's shapes."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Reads the files' non-standard `!!value` tag as a plain scalar."""


_Loader.add_constructor("tag:yaml.org,2002:value",
                        lambda loader, node: loader.construct_scalar(node))


@cache
def support_api() -> dict[str, Any]:
    with (REFERENCE / "zendesk-support-openapi.yaml").open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)


def example(name: str) -> dict[str, Any]:
    """A named response example, e.g. "CursorBasedExportIncrementalTicketsResponseExample"."""
    return support_api()["components"]["examples"][name]["value"]


def schema_example(name: str) -> dict[str, Any]:
    return support_api()["components"]["schemas"][name]["example"]


def schema_properties(lines: list[str], name: str) -> set[str]:
    """Property names of `components.schemas.<name>`, read by indentation (no YAML parser).

    Follows `anyOf`/`allOf` references, since UserObject is the union of two user schemas.
    """
    start = lines.index(f"    {name}:")
    names: set[str] = set()
    section = ""
    for line in lines[start + 1:]:
        stripped, indent = line.strip(), len(line) - len(line.lstrip())
        if stripped and indent <= 4:
            break
        if indent == 6:
            section = stripped
        elif section == "properties:" and indent == 8 and stripped.endswith(":"):
            names.add(stripped[:-1])
        elif section in ("anyOf:", "allOf:") and stripped.startswith("- $ref:"):
            names |= schema_properties(lines, stripped.rsplit("/", 1)[1].strip("'\""))
    return names
