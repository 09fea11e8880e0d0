"""The docs' command blocks run: every ```sh block of README.md and docs/deploy.md is run, in
order, in one shell per document (against the sandbox the blocks start), except blocks whose
first line says why a test cannot run them. No shell command hides in an indented block."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = {"README": ROOT / "README.md", "deploy": ROOT / "docs" / "deploy.md"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
NOT_RUN = re.compile(r"^# not run in tests: (?P<why>\S.{10,})$")
INDENTED_COMMAND = re.compile(r"(?:\A|\n\n)((?: {4}(?:customer-value|export|python|bash|"
                              r"runuser|createdb|\.venv)[^\n]*\n)+)")


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, text) of every fenced block."""
    return [(language, text) for language, text in FENCE.findall(path.read_text())]


def runnable(path: Path) -> list[str]:
    return [text for language, text in blocks(path)
            if language == "sh" and not NOT_RUN.match(text.splitlines()[0])]


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_block_is_fenced_and_runs_or_says_why(doc):
    text = DOCS[doc].read_text()
    assert not INDENTED_COMMAND.findall(text), "commands belong in ```sh blocks"
    shells = [block for language, block in blocks(DOCS[doc]) if language == "sh"]
    assert shells and runnable(DOCS[doc]), f"{doc} has no runnable block"
    for block in shells:
        first = block.splitlines()[0]
        if first.startswith("# not run"):
            assert NOT_RUN.match(first), f"say why a block is not run: {first!r}"


def script(doc: str) -> str:
    """The document's runnable blocks as one script: stop at the first failing command, and
    stop what the blocks started in the background when it ends."""
    return "\n".join(["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
                      *runnable(DOCS[doc])])


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS)
def test_the_docs_command_blocks_run(doc, tmp_path):
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ZENDESK_", "CUSTOMER_VALUE_", "SELL_", "BITRIX24_"))
           and name not in ("DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV")}
    if doc == "deploy":  # an operator's machine, with the package installed on the PATH
        env["PATH"] = f"{tmp_path / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    else:  # a fresh checkout: the README's own blocks must find the command
        env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                      if Path(part).resolve() != Path(sys.prefix) / "bin")
    done = subprocess.run(["bash", "-c", script(doc)], cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=600)
    assert done.returncode == 0, f"{doc}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    if doc == "README":
        assert '"user_id": 10000001' in done.stdout and '"user_id": 10000004' in done.stdout
    else:
        assert "Uninstalled rehearsal" in done.stdout
        assert "would change, in" in done.stdout
