"""Custom user and organization fields, and updating users and organizations (Zendesk's User
Fields, Organization Fields, Users and Organizations APIs).

Shapes follow Zendesk's OpenAPI description (`UserFieldObject`, `OrganizationFieldObject`:
`CustomFieldObject`; `UserResponse`, `OrganizationResponse`): a field is created with a
`key`, `type` and `title` (422 RecordInvalid when one is missing or the key is taken), listed
with `count`, `next_page` and `previous_page` (and cursor `meta`/`links` when asked for with
`page[size]`). An update sets the given `user_fields` / `organization_fields` (keys that name
no field are ignored, as Zendesk does), replaces `tags` when given, and dates the record so
the next incremental export returns it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from integrations.sandbox.clock import iso
from integrations.sandbox.context import api_base, reply, request_body, services
from integrations.sandbox.editing import tag_list
from integrations.sandbox.errors import not_found, record_invalid

Record = dict[str, Any]
FIELD_TYPES = ("text", "textarea", "checkbox", "date", "integer", "decimal", "regexp",
               "dropdown", "lookup", "multiselect")
KEY = re.compile(r"^(?![0-9]+$)[A-Za-z0-9_]+$")
KINDS = {"user_fields": "user_field", "organization_fields": "organization_field"}
PEOPLE = {"users": ("user", "user_fields"),
          "organizations": ("organization", "organization_fields")}

blueprint = Blueprint("fields", __name__, url_prefix="/api/v2")


@blueprint.get("/<any(user_fields, organization_fields):kind>")
def list_fields(kind: str) -> Response:
    found = services().store.fields(kind)
    body: Record = {kind: found, "count": len(found), "next_page": None, "previous_page": None}
    if any(name.startswith("page[") for name in request.args):
        body["meta"] = {"has_more": False, "after_cursor": None, "before_cursor": None}
        body["links"] = {"next": None, "prev": None}
    return reply(body)


@blueprint.post("/<any(user_fields, organization_fields):kind>")
def create_field(kind: str) -> Response:
    singular = KINDS[kind]
    given = request_body().get(singular)
    if not isinstance(given, dict):
        raise record_invalid(singular, f'expected {{"{singular}": {{...}}}}')
    kind_of = given.get("type") or "text"
    for name in ("key", "title"):
        if not isinstance(given.get(name), str) or not given[name].strip():
            raise record_invalid(name, f"{name.capitalize()}: cannot be blank", "BlankValue")
    if not KEY.match(given["key"]):
        raise record_invalid("key", "Key: is invalid (letters, numbers and underscores)")
    if kind_of not in FIELD_TYPES:
        raise record_invalid("type", f"Type: {kind_of} is not a field type")
    stamp = iso(services().store.clock.stamp())

    def build(field_id: int) -> Record:
        description = str(given.get("description") or "")
        return {"url": f"{api_base()}/{kind}/{field_id}.json", "id": field_id,
                "type": kind_of, "key": given["key"], "title": given["title"],
                "raw_title": given["title"], "description": description,
                "raw_description": description, "position": int(given.get("position") or 0),
                "active": bool(given.get("active", True)), "system": False,
                "regexp_for_validation": given.get("regexp_for_validation"),
                "created_at": stamp, "updated_at": stamp}

    created = services().store.add_field(kind, build)
    if created is None:
        raise record_invalid("key", "Key: has already been taken", "DuplicateValue")
    return reply({singular: created}, 201)


@blueprint.put("/<any(users, organizations):table>/<int:pk>")
def update_person(table: str, pk: int) -> Response:
    singular, fields_name = PEOPLE[table]
    given = request_body().get(singular)
    if not isinstance(given, dict):
        raise record_invalid(singular, f'expected {{"{singular}": {{...}}}}')
    values = given.get(fields_name, {})
    if not isinstance(values, dict):
        raise record_invalid(fields_name, f"{fields_name} must be an object")
    known = {f["key"] for f in services().store.fields(f"{singular}_fields")}
    tags = tag_list(given["tags"]) if "tags" in given else None

    def edit(record: Record) -> Record:
        current = dict(record.get(fields_name) or {})
        current.update({key: value for key, value in values.items() if key in known})
        record[fields_name] = current
        if tags is not None:
            record["tags"] = tags
        return record

    updated = services().store.edit_person(table, pk, edit)
    if updated is None:
        raise not_found()
    return reply({singular: updated})
