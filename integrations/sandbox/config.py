"""The sandbox's knobs: credentials, latency, rate limits, injected faults and job timing.

The same names serve the command line (as `--latency-ms` and so on), `running_sandbox(**options)`
and `POST /_sandbox/config`, so a test can switch faults on and off while the server runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

ACCOUNT_RATE_LIMIT = 700
"""Requests per minute (Zendesk's Enterprise plan limit)."""
EXPORT_RATE_LIMIT = 10
"""Incremental export requests per minute (Zendesk's limit without the high-volume add-on)."""
SLOW_SECONDS = 30.0
"""How long a "slow" fault holds its answer: longer than any sensible client timeout."""
JOB_SECONDS = 0.3
"""How long a bulk update job takes from queued to completed."""
BITRIX_BUCKET, BITRIX_DRAIN = 50, 2.0
"""Bitrix24's leaky bucket outside its Enterprise plans: 50 requests, draining 2 a second."""
FAULT_KINDS = ("500", "502", "503", "slow", "drop", "429")
"""What an injected fault can be; 429 is a rate-limit answer apart from the real limits."""


class ConfigError(ValueError):
    """A knob given a value it cannot take."""


@dataclass(frozen=True)
class SandboxConfig:
    """Every knob, with Zendesk's own numbers as defaults. A limit of 0 means "no limit".

    `token`/`email` make the sandbox demand that API token (`email/token:token` in Basic auth,
    or the token as a Bearer); without them any Basic or Bearer credentials pass. The CRM
    knobs are described in `crm`: `sell_token`, `bitrix_secret`, the Bitrix24 leaky bucket
    (`bitrix_bucket` requests, draining `bitrix_drain` a second; 0: no limit) and `crm_down`.
    """

    latency_ms: float = 0.0
    rate_limit: int = ACCOUNT_RATE_LIMIT
    export_rate_limit: int = EXPORT_RATE_LIMIT
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = SLOW_SECONDS
    job_seconds: float = JOB_SECONDS
    seed: int | None = None
    token: str | None = None
    email: str | None = None
    sell_token: str | None = None
    bitrix_secret: str | None = None
    bitrix_bucket: int = BITRIX_BUCKET
    bitrix_drain: float = BITRIX_DRAIN
    crm_down: bool = False
    oauth_client_id: str = "customer_value"
    oauth_client_secret: str = "sandbox-oauth-secret"
    """The one OAuth client the sandbox's account knows (`/oauth/tokens`)."""
    surveys_forbidden: bool = False
    """Answer the CSAT survey responses with 403, as Zendesk does on plans or for roles
    without the newer CSAT."""

    def __post_init__(self) -> None:
        _check(self.latency_ms >= 0, "latency_ms must be >= 0")
        _check(self.rate_limit >= 0 and self.export_rate_limit >= 0,
               "rate limits must be >= 0 (0: no limit)")
        _check(0.0 <= self.fault_rate <= 1.0, "fault_rate must be between 0 and 1")
        _check(bool(self.fault_kinds) and set(self.fault_kinds) <= set(FAULT_KINDS),
               f"fault_kinds must be a non-empty subset of {', '.join(FAULT_KINDS)}")
        _check(self.slow_seconds >= 0 and self.job_seconds >= 0,
               "slow_seconds and job_seconds must be >= 0")
        _check(self.bitrix_bucket >= 0 and self.bitrix_drain >= 0,
               "bitrix_bucket and bitrix_drain must be >= 0")

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        """A copy with `changes` (JSON values) applied; ConfigError names a bad one."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        _check(not unknown, f"unknown settings: {', '.join(sorted(unknown))}")
        values = dict(changes)
        try:
            for name in ("latency_ms", "fault_rate", "slow_seconds", "job_seconds",
                         "bitrix_drain"):
                if name in values:
                    values[name] = float(values[name])
            for name in ("rate_limit", "export_rate_limit", "bitrix_bucket"):
                if name in values:
                    values[name] = int(values[name] or 0)
            if "fault_kinds" in values:
                values["fault_kinds"] = tuple(str(kind) for kind in values["fault_kinds"])
            for name in ("crm_down", "surveys_forbidden"):
                if name in values:
                    values[name] = bool(values[name])
            if values.get("seed") is not None:
                values["seed"] = int(values["seed"])
        except (TypeError, ValueError) as error:
            raise ConfigError(f"bad setting: {error}") from None
        return replace(self, **values)

    def public(self) -> dict[str, Any]:
        """The knobs as JSON, without the token."""
        values = asdict(self)
        for secret in ("token", "sell_token", "bitrix_secret", "oauth_client_secret"):
            values[secret] = "********" if getattr(self, secret) else None
        values["fault_kinds"] = list(self.fault_kinds)
        return values


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
