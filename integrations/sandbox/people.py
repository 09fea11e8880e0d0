"""Users and organizations (Zendesk's Users and Organizations APIs), and the signed-in admin.

Whoever authenticates is the account's admin, `GET /users/me`: an agent who may do everything
the sandbox serves. Their record is not part of the dataset (or its exports).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from integrations.sandbox.clock import iso
from integrations.sandbox.context import api_base, id_list, raw_reply, reply, services
from integrations.sandbox.errors import not_found
from integrations.sandbox.paging import render

ADMIN_ID = 900_000
ADMIN_NAME = "Sandbox Admin"
ADMIN_EMAIL = "admin@example.com"
SHOW_MANY_MAX = 100

blueprint = Blueprint("people", __name__, url_prefix="/api/v2")


def admin() -> dict[str, Any]:
    """The signed-in admin as a UserObject (UserForAdmin)."""
    config, store = services().traffic.config, services().store
    since = iso(store.clock.start)
    return {
        "url": f"{api_base()}/users/{ADMIN_ID}.json", "id": ADMIN_ID, "name": ADMIN_NAME,
        "email": config.email or ADMIN_EMAIL, "created_at": since, "updated_at": since,
        "time_zone": "UTC", "iana_time_zone": "Etc/UTC", "phone": None,
        "shared_phone_number": None, "photo": None, "locale_id": 1, "locale": "en-US",
        "organization_id": None, "role": "admin", "verified": True, "external_id": None,
        "tags": [], "alias": "", "active": True, "shared": False, "shared_agent": False,
        "last_login_at": since, "two_factor_auth_enabled": None, "signature": "",
        "details": "", "notes": "", "role_type": None, "custom_role_id": None,
        "moderator": True, "ticket_restriction": None, "only_private_comments": False,
        "restricted_agent": False, "suspended": False, "default_group_id": None,
        "report_csv": True, "user_fields": {},
    }


@blueprint.get("/users/me")
def me() -> Response:
    return reply({"user": admin()})


@blueprint.get("/users/<int:user_id>")
def show_user(user_id: int) -> Response:
    if user_id == ADMIN_ID:
        return reply({"user": admin()})
    text = services().store.body("users", user_id)
    if text is None:
        raise not_found()
    return raw_reply(f'{{"user":{text}}}')


@blueprint.get("/users/show_many")
def show_many_users() -> Response:
    ids = id_list("ids", SHOW_MANY_MAX)
    return raw_reply(render({"users": services().store.bodies("users", ids)}))


@blueprint.get("/organizations/<int:organization_id>")
def show_organization(organization_id: int) -> Response:
    text = services().store.body("organizations", organization_id)
    if text is None:
        raise not_found()
    return raw_reply(f'{{"organization":{text}}}')


@blueprint.get("/organizations/show_many")
def show_many_organizations() -> Response:
    ids = id_list("ids", SHOW_MANY_MAX)
    return raw_reply(render({"organizations": services().store.bodies("organizations", ids)}))
