"""Zendesk records for dataset-folder tests: one user and one ticket, and a folder writer."""

from __future__ import annotations

import json
from pathlib import Path

USER = {"id": 1, "name": "Zoë Müller", "email": "zoe@example.com",
        "created_at": "2022-01-01T00:00:00Z", "tags": ["vip"], "organization_id": 7,
        "user_fields": {"lifetime_spend": 1200}}


TICKET = {"id": 10, "requester_id": 1, "created_at": "2024-01-01T00:00:00Z",
          "updated_at": "2024-01-03T00:00:00Z", "status": "closed", "priority": None,
          "via": {"channel": "web"}, "subject": "Login", "tags": ["login"],
          "satisfaction_rating": {"id": 3, "score": "good", "comment": "quick!"}}


def write(folder: Path, **files) -> Path:
    base = {"users": {"users": [USER]}, "tickets": {"tickets": [TICKET]}}
    base.update(files)
    for name, content in base.items():
        if content is not None:
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / f"{name}.json").write_text(text, encoding="utf-8")
    return folder
