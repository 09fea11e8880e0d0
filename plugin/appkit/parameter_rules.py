"""The rules of the manifest's `parameters` (the settings an admin fills in at installation).

Errors reproduce ZAS `lib/zendesk_apps_support/validations/manifest.rb`
(`parameters_error`, `invalid_hidden_parameter_error`, `invalid_type_error`,
`too_many_oauth_parameters`, `oauth_cannot_be_secure`, `name_as_parameter_name_error`, and the
newer password and scope rules whose messages are in ZAS's translations), with the defaults of
`manifest/parameter.rb`. Warnings reproduce `validations/secure_settings.rb`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from plugin.appkit.folder import Problem, error, warning
from plugin.appkit.messages import SECURE_SETTINGS_DOCS, ruby_class, ruby_truthy

# manifest/parameter.rb TYPES; "password" stays known so that it gets its own message.
PARAMETER_TYPES = ("text", "password", "checkbox", "url", "number", "multiline", "hidden",
                   "oauth")
DEFAULT_TYPE = "text"
PASSWORD = "password"
HIDDEN = "hidden"
OAUTH = "oauth"
RESERVED_NAME = "name"
MAX_OAUTH_PARAMETERS = 1
# secure_settings.rb SECURABLE_KEYWORDS: names that look like secrets.
SECRET_NAME = re.compile("token|key|pwd|password", re.IGNORECASE)
SECRET_TYPES = ("text", "password")


@dataclass(frozen=True)
class Parameter:
    """One entry of `parameters`, with ZAS's defaults (`type || 'text'`, `required || false`)."""

    name: Any
    type: Any
    required: Any
    secure: Any
    has_default: bool
    has_scopes: bool
    scopes: Any

    @classmethod
    def read(cls, entry: dict[str, Any]) -> Parameter:
        return cls(name=entry.get("name"),
                   type=entry.get("type") if ruby_truthy(entry.get("type")) else DEFAULT_TYPE,
                   required=entry.get("required") if ruby_truthy(entry.get("required"))
                   else False,
                   secure=entry.get("secure") if ruby_truthy(entry.get("secure")) else False,
                   has_default="default" in entry, has_scopes="scopes" in entry,
                   scopes=entry.get("scopes"))

    @property
    def label(self) -> str:
        """The name as Ruby interpolates it ("" for nil)."""
        return "" if self.name is None else str(self.name)


def parameters(manifest: dict[str, Any]) -> list[Parameter]:
    original = manifest.get("parameters")
    entries = original if isinstance(original, list) else []
    return [Parameter.read(entry) for entry in entries if isinstance(entry, dict)]


def check(manifest: dict[str, Any]) -> list[Problem]:
    """Every parameter error, in the order ZAS reports them."""
    original = manifest.get("parameters")
    if original is not None and not isinstance(original, list):
        return [error("unacceptable_array", field="parameters", value=ruby_class(original)),
                error("parameters_not_an_array")]
    found = parameters(manifest)
    problems = shape_errors(found)
    hidden_required = [p.label for p in found if p.type == HIDDEN and ruby_truthy(p.required)]
    if hidden_required:
        problems.append(error("invalid_hidden_parameter", invalid_params=", ".join(
            hidden_required), count=len(hidden_required)))
    unknown_types = [p.type for p in found if p.type not in PARAMETER_TYPES]
    if unknown_types:
        problems.append(error("invalid_type_parameter", invalid_types=", ".join(
            str(t) for t in unknown_types), count=len(unknown_types)))
    if any(p.type == PASSWORD for p in found):
        problems.append(error("password_parameter_type_deprecated", link=SECURE_SETTINGS_DOCS))
    oauth = [p for p in found if p.type == OAUTH]
    if len(oauth) > MAX_OAUTH_PARAMETERS:
        problems.append(error("too_many_oauth_parameters"))
    if any(ruby_truthy(p.secure) for p in oauth):
        problems.append(error("oauth_parameter_cannot_be_secure"))
    if any(p.name == RESERVED_NAME for p in found):
        problems.append(error("name_as_parameter_name"))
    return problems + scope_errors(found)


def shape_errors(found: list[Parameter]) -> list[Problem]:
    """Duplicate names, else non-boolean `required`, else non-boolean `secure`
    (ZAS `parameters_error` stops at the first kind it finds)."""
    names = [p.name for p in found]
    duplicates = list(dict.fromkeys(name for name in names if names.count(name) > 1))
    if duplicates:
        return [error("duplicate_parameters", duplicate_parameters=duplicates)]
    for attribute in ("required", "secure"):
        wrong = [error("unacceptable_boolean", field=f"parameters.{p.label}.{attribute}",
                       value=getattr(p, attribute))
                 for p in found if not isinstance(getattr(p, attribute), bool)]
        if wrong:
            return wrong
    return []


def scope_errors(found: list[Parameter]) -> list[Problem]:
    """`scopes` (which requests may carry a secure setting) only on secure parameters, and
    never empty."""
    with_scopes = [p for p in found if p.has_scopes]
    problems = []
    if any(not ruby_truthy(p.secure) for p in with_scopes):
        problems.append(error("scope_requires_secure_parameter"))
    if any(ruby_truthy(p.secure) and not p.scopes for p in with_scopes):
        problems.append(error("scopes_cannot_be_empty"))
    return problems


def warnings(manifest: dict[str, Any]) -> list[Problem]:
    """Secret-looking parameters that are not secure; defaults on secure or hidden ones."""
    found = parameters(manifest)
    problems = []
    if any(isinstance(p.name, str) and SECRET_NAME.search(p.name) and p.type in SECRET_TYPES
           and not ruby_truthy(p.secure) for p in found):
        problems.append(warning("translation.insecure_token_parameter_in_manifest",
                                link=SECURE_SETTINGS_DOCS))
    if any(p.has_default and (ruby_truthy(p.secure) or p.type == HIDDEN) for p in found):
        problems.append(warning("translation.default_secure_or_hidden_parameter_in_manifest"))
    return problems
