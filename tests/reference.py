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
