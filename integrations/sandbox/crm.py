"""The two CRM APIs over the dataset's CRM files, beside Zendesk's.

Zendesk Sell under `/v2/contacts`, `/v2/deals` and `/v2/stages`: Bearer tokens, Sell's
collection envelope, `page`/`per_page` pagination with a `next_page` link, and `sort_by`
(`field` or `field:desc`, on `id`, `created_at` or `updated_at`). Bitrix24 under
`/rest/<user>/<secret>/<method>.json` (an inbound webhook's URL): `crm.contact.list`,
`crm.deal.list` (filter by EMAIL, CONTACT_ID and `>`/`>=` DATE_MODIFY, `order` by ID, select,
`start`, pages of 50 with `total` and `next`) and `batch`, behind Bitrix24's leaky bucket (over
it: 503 with QUERY_LIMIT_EXCEEDED).

Knobs (`SandboxConfig`): `sell_token` and `bitrix_secret` demand those credentials (without
them any are accepted), `bitrix_bucket`/`bitrix_drain` size the leaky bucket (0: no limit;
a bucket of 1 makes the second quick call exceed it), `crm_down` answers every CRM call with
503. CRM requests are counted in `/_sandbox/stats` like Zendesk's.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, current_app, request

from integrations.sandbox.context import reply, services
from plugin.core.domain import normal_email

SELL_PAGE, SELL_PAGE_MAX = 25, 100
BITRIX_PAGE = 50
BATCH_MAX = 50

blueprint = Blueprint("sandbox_crm", __name__)


class LeakyBucket:
    """Bitrix24's request limit: each request adds one, `drain` leak out a second, and a
    request that would pass `capacity` is refused (apidocs.bitrix24.com/limits.html)."""

    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._level = 0.0
        self._at = clock()

    def admit(self, capacity: int, drain: float) -> bool:
        with self._lock:
            now = self._clock()
            self._level = max(0.0, self._level - (now - self._at) * drain)
            self._at = now
            if capacity and self._level + 1 > capacity:
                return False
            self._level += 1
            return True

    def reset(self) -> None:
        with self._lock:
            self._level, self._at = 0.0, self._clock()


def bucket() -> LeakyBucket:
    """This sandbox app's Bitrix24 bucket."""
    return current_app.extensions.setdefault("sandbox_crm_bucket", LeakyBucket())


@blueprint.before_request
def _gate() -> Response | None:
    """Counts the call, then refuses it when the CRMs are down, the credentials are wrong or
    Bitrix24's bucket is full."""
    config = services().traffic.config
    bitrix = request.path.startswith("/rest/")
    method = (request.view_args or {}).get("method", "").removesuffix(".json")
    label = f"POST /rest/{{user}}/{{secret}}/{method}" if bitrix else \
        f"{request.method} {request.path}"
    services().stats.count(label)
    if config.crm_down:
        return Response("<html><body><h1>503 Service Unavailable</h1></body></html>", 503,
                        mimetype="text/html")
    if bitrix:
        secret = (request.view_args or {}).get("secret")
        if config.bitrix_secret is not None and secret != config.bitrix_secret:
            return reply({"error": "INVALID_CREDENTIALS",
                          "error_description": "Invalid request credentials"}, 401)
        if not bucket().admit(config.bitrix_bucket, config.bitrix_drain):
            return reply({"error": "QUERY_LIMIT_EXCEEDED",
                          "error_description": "Too many requests"}, 503)
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token or (
            config.sell_token is not None and token != config.sell_token):
        return reply(_sell_error(401, "unauthorized", "Unauthorized"), 401)
    return None


# --- Zendesk Sell ---------------------------------------------------------------------------

def _sell_error(status: int, code: str, message: str) -> dict[str, Any]:
    """Sell's error envelope (developer.zendesk.com/api-reference/sales-crm/errors/)."""
    return {"errors": [{"error": {"code": code, "message": message, "details": message},
                        "meta": {"type": "error"}}],
            "meta": {"type": "errors", "http_status": f"{status} {message}"}}


SELL_SORT_KEYS = ("id", "created_at", "updated_at")


def _sell_page(kind: str, records: list[dict[str, Any]]) -> Response:
    try:
        number = max(1, int(request.args.get("page", 1)))
        size = min(SELL_PAGE_MAX, max(1, int(request.args.get("per_page", SELL_PAGE))))
    except ValueError:
        return reply(_sell_error(400, "invalid_param", "page and per_page are numbers"), 400)
    if request.args.get("sort_by"):
        key, _, direction = request.args["sort_by"].partition(":")
        if key not in SELL_SORT_KEYS or direction not in ("", "asc", "desc"):
            return reply(_sell_error(400, "invalid_param", "sort_by is not supported"), 400)
        records = sorted(records, key=lambda r: (r.get(key) is not None, r.get(key) or 0,
                                                 r.get("id") or 0),
                         reverse=direction == "desc")
    chunk = records[(number - 1) * size:number * size]
    base = f"{request.host_url.rstrip('/')}{request.path}"
    args = {k: v for k, v in request.args.items() if k != "page"}
    links = {"self": f"{base}?{urlencode({**args, 'page': number})}",
             "first_page": f"{base}?{urlencode({**args, 'page': 1})}"}
    if number > 1:
        links["prev_page"] = f"{base}?{urlencode({**args, 'page': number - 1})}"
    if number * size < len(records):
        links["next_page"] = f"{base}?{urlencode({**args, 'page': number + 1})}"
    return reply({"items": [{"data": r, "meta": {"type": kind}} for r in chunk],
                  "meta": {"type": "collection", "count": len(chunk), "links": links}})


@blueprint.get("/v2/contacts")
def sell_contacts() -> Response:
    crm = services().store.crm
    email = normal_email(request.args.get("email"))
    if email:
        found = crm.sell_contacts.get(email, [])
    else:
        found = [c for group in crm.sell_contacts.values() for c in group]
    return _sell_page("contact", found)


@blueprint.get("/v2/deals")
def sell_deals() -> Response:
    crm = services().store.crm
    contact = request.args.get("contact_id")
    found = crm.sell_deals.get(contact, []) if contact else crm.all_sell_deals
    return _sell_page("deal", found)


@blueprint.get("/v2/stages")
def sell_stages() -> Response:
    return _sell_page("stage", services().store.crm.sell_stages)


# --- Bitrix24 -------------------------------------------------------------------------------

@blueprint.route("/rest/<int:user>/<secret>/<method>", methods=["GET", "POST"])
def bitrix(user: int, secret: str, method: str) -> Response:
    method = method.removesuffix(".json")
    params = _bitrix_params()
    if method == "batch":
        return reply(_batch(params))
    answer = _bitrix_call(method, params)
    if "error" in answer:
        return reply(answer, 404 if answer["error"] == "ERROR_METHOD_NOT_FOUND" else 400)
    return reply(answer)


def _bitrix_params() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        return body
    return nested(list(request.args.items(multi=True)) + list(request.form.items(multi=True)))


def nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP-style query parameters as nested values: `filter[EMAIL]=a` → {"filter": {"EMAIL":
    "a"}}, `select[0]=ID` and `select[]=ID` → {"select": ["ID"]}."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        last = parts[-1]
        if last == "" or (len(parts) > 1 and last.isdigit()):
            target[str(len(target))] = value
        else:
            target[last] = value
    return _lists(result)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _lists(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


def _bitrix_call(method: str, params: dict[str, Any]) -> dict[str, Any]:
    crm = services().store.crm
    where = params.get("filter") if isinstance(params.get("filter"), dict) else {}
    if method == "crm.contact.list":
        email = normal_email(where.get("EMAIL"))
        records = crm.bitrix_contacts.get(email, []) if email else [
            c for group in crm.bitrix_contacts.values() for c in group]
        records = list({id(r): r for r in records}.values())
    elif method == "crm.deal.list":
        contact = where.get("CONTACT_ID")
        records = crm.bitrix_deals.get(str(contact), []) if contact is not None else \
            crm.all_bitrix_deals
    else:
        return {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    records = _changed(records, where)
    order = params.get("order") if isinstance(params.get("order"), dict) else {}
    if str(order.get("ID", "")).upper() in ("ASC", "DESC"):
        records = sorted(records, key=lambda r: int(r.get("ID") or 0),
                         reverse=str(order["ID"]).upper() == "DESC")
    return _bitrix_page(records, params)


def _changed(records: list[dict[str, Any]], where: dict[str, Any]) -> list[dict[str, Any]]:
    """The records a `>DATE_MODIFY` or `>=DATE_MODIFY` filter keeps (records without
    DATE_MODIFY count as changed when created)."""
    for prefix in (">=", ">"):
        value = where.get(f"{prefix}DATE_MODIFY")
        if value is not None:
            since = datetime.fromisoformat(str(value))
            records = [r for r in records if _modified_after(r, since, prefix == ">=")]
    return records


def _modified_after(record: dict[str, Any], since: datetime, inclusive: bool) -> bool:
    stamp = record.get("DATE_MODIFY") or record.get("DATE_CREATE")
    if not stamp:
        return False
    moment = datetime.fromisoformat(stamp)
    return moment >= since if inclusive else moment > since


def _bitrix_page(records: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    try:
        start = max(0, int(params.get("start") or 0))
    except (TypeError, ValueError):
        start = 0
    select = params.get("select") or []
    chunk = records[start:start + BITRIX_PAGE]
    if select and "*" not in select:
        chunk = [{k: r[k] for k in select if k in r} for r in chunk]
    answer: dict[str, Any] = {"result": chunk, "total": len(records),
                              "time": {"start": time.time(), "duration": 0.001}}
    if start + BITRIX_PAGE < len(records):
        answer["next"] = start + BITRIX_PAGE
    return answer


def _batch(params: dict[str, Any]) -> dict[str, Any]:
    commands = params.get("cmd") or {}
    if isinstance(commands, list):
        commands = {str(i): c for i, c in enumerate(commands)}
    if not isinstance(commands, dict) or len(commands) > BATCH_MAX:
        return {"error": "INVALID_ARG_VALUE",
                "error_description": f"a batch takes at most {BATCH_MAX} commands"}
    results, errors, totals, following = {}, {}, {}, {}
    for key, command in commands.items():
        method, _, query = str(command).partition("?")
        answer = _bitrix_call(method, nested(parse_qsl(query, keep_blank_values=True)))
        if "error" in answer:
            errors[key] = answer
            if str(params.get("halt", "0")) not in ("0", "false", "False", ""):
                break
            continue
        results[key], totals[key] = answer["result"], answer["total"]
        if "next" in answer:
            following[key] = answer["next"]
    return {"result": {"result": results, "result_error": errors or [],
                       "result_total": totals or [], "result_next": following or [],
                       "result_time": []},
            "time": {"start": time.time(), "duration": 0.001}}
