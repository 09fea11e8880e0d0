"""Running the `customer-value` script as a user would, and asking the sandbox what it served."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import requests

SCRIPT = shutil.which("customer-value", path=str(Path(sys.executable).parent))


AUTH = {"ZENDESK_EMAIL": "agent@example.com", "ZENDESK_API_TOKEN": "sandbox-token"}


def stats(base_url: str) -> dict:
    return requests.get(f"{base_url}/_sandbox/stats", timeout=10).json()


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
