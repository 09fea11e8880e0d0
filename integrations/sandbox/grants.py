"""What the sandbox's OAuth endpoints issued (see `integrations.sandbox.oauth`)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

ACCESS_SECONDS = 2 * 24 * 3600
REFRESH_SECONDS = 30 * 24 * 3600


@dataclass
class OAuthBoard:
    """Codes and tokens the sandbox issued: which are live, which are spent or revoked."""

    codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self) -> dict[str, object]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access.add(access)
        self.refresh.add(refresh)
        return {"access_token": access, "token_type": "bearer", "scope": "read write",
                "expires_in": ACCESS_SECONDS, "refresh_token": refresh,
                "refresh_token_expires_in": REFRESH_SECONDS}

    def knows(self, token: str) -> bool | None:
        """True for a live token it issued, False for a revoked one, None for others."""
        if token in self.revoked:
            return False
        return True if token in self.access else None

    def revoke_all(self) -> int:
        with self.lock:
            count = len(self.access) + len(self.refresh)
            self.revoked |= self.access | self.refresh
            self.access.clear()
            self.refresh.clear()
            return count
