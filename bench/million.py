"""What the million-ticket runs of `bench_zendesk.py` and `bench_tagging.py` share: a scratch
folder with room for the account, and the account itself, generated and served by the sandbox.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from integrations.sandbox.server import running_sandbox
from plugin.demo.generator import GenerationSummary, generate

MILLION_CUSTOMERS = 100_000
"""About 1,000,000 tickets."""
MILLION_FREE_BYTES = 8 * 1024**3
"""About 2.3 GB of JSON, 3 GB of sandbox database, and the history store."""


def scratch_folder(asked: Path | None) -> Path:
    """Where the million-ticket account fits: `asked`, else the temp folder if roomy enough."""
    for folder in ([asked] if asked else [Path(tempfile.gettempdir()), Path.cwd()]):
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
        print(f"Free space in {folder}: {free / 1024**3:,.1f} GiB")
        if free >= MILLION_FREE_BYTES:
            return folder
    sys.exit(f"need {MILLION_FREE_BYTES / 1024**3:.0f} GiB free for --million; "
             "pass --scratch DIR")


def generate_account(work: Path, customers: int, *, seed: int,
                     now: datetime) -> tuple[GenerationSummary, str]:
    """Generate the account into `work/account`; its summary, and a line saying how big it
    came out and how long it took (to print under the caller's heading)."""
    began = time.perf_counter()
    summary = generate(work / "account", customers, seed=seed, now=now)
    generated = time.perf_counter() - began
    size = sum(p.stat().st_size for p in (work / "account").iterdir())
    return summary, (f"Generated {summary.users:,} customers, {summary.tickets:,} tickets, "
                     f"{summary.ratings:,} ratings, {summary.survey_responses:,} survey "
                     f"responses ({size / 1024**3:.1f} GiB) in {generated:.0f} s.")


@contextmanager
def served_account(work: Path, now: datetime, *, jobs_note: str = "") -> Iterator[str]:
    """`work/account` served by the sandbox (its database in `work`, no latency, both rate
    limits lifted), saying how long it took to load; yields its base URL."""
    began = time.perf_counter()
    with running_sandbox(work / "account", now=now, export_rate_limit=0, rate_limit=0,
                         db_path=work / "sandbox.db") as base:
        print(f"Sandbox loaded in {time.perf_counter() - began:.0f} s; no latency, both rate "
              f"limits lifted{jobs_note}.")
        yield base
