"""Background jobs of bulk updates, as Zendesk runs them: queued, then working, then completed.

A job's phase follows the time since it was submitted (queued for the first third of
`job_seconds`, then working). Once due, it is carried out by whichever request comes next
(`due()` hands each job out once), so its writes are in place before anything can observe them
and no thread of its own needs stopping.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]
QUEUED_SHARE = 1 / 3
"""Share of a job's time spent queued before it starts working."""


@dataclass
class Job:
    """One bulk update: its tasks (ticket id, changes) and, once done, their results."""

    id: str
    submitted: float
    duration: float
    tasks: list[tuple[int, Record]]
    results: list[Record] | None = None
    finished_at: str | None = None


class JobBoard:
    """Submitted jobs by id. Thread-safe."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._jobs: dict[str, Job] = {}
        self._pending: list[Job] = []

    def submit(self, tasks: list[tuple[int, Record]], duration: float) -> Job:
        """Queues a job of (ticket id, changes) tasks that will take `duration` seconds."""
        job = Job(uuid.uuid4().hex, self._monotonic(), duration, tasks)
        with self._lock:
            self._jobs[job.id] = job
            self._pending.append(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def due(self) -> list[Job]:
        """Jobs whose time is up and that nobody carries out yet; each is handed out once."""
        now = self._monotonic()
        with self._lock:
            ready, waiting = [], []
            for job in self._pending:
                (ready if now - job.submitted >= job.duration else waiting).append(job)
            self._pending = waiting
        return ready

    def finish(self, job: Job, results: list[Record], finished_at: str) -> None:
        with self._lock:
            job.results, job.finished_at = results, finished_at

    def phase(self, job: Job) -> str:
        """"queued", "working" or "completed"."""
        if job.results is not None:
            return "completed"
        elapsed = self._monotonic() - job.submitted
        return "queued" if elapsed < job.duration * QUEUED_SHARE else "working"

    def view(self, job: Job, url: str) -> Record:
        """The job as Zendesk's JobStatusObject."""
        phase, total = self.phase(job), len(job.tasks)
        done = {"queued": None, "working": 0, "completed": total}[phase]
        message = f"Completed at {job.finished_at}" if phase == "completed" else None
        return {"id": job.id, "url": url, "total": total,
                "progress": done, "status": phase, "message": message, "results": job.results}
