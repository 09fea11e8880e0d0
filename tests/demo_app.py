"""`customer-value demo` in a subprocess, as a newcomer starts it, for the browser tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tests.commands import SCRIPT


@contextmanager
def running_demo(folder: Path, now: datetime) -> Iterator[str]:
    """The demo app on a free port, serving the dataset in `folder`; its URL."""
    process = subprocess.Popen([SCRIPT, "demo", "--port", "0", "--data", str(folder),
                                "--now", now.isoformat()],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = None
    deadline = time.monotonic() + 120
    while url is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        found = re.search(r"demo on (http://\S+)", line)
        url = found.group(1) if found else None
    try:
        assert url, "the demo did not start"
        yield url
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        process.stderr.close()
