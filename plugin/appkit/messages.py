"""The words of every problem the validator reports.

Zendesk's own messages are copied word for word from the public `zendesk_apps_support` gem
(ZAS), `config/locales/translations/zendesk_apps_support.yml`, keys under
`txt.apps.admin.error.app_build.` (the part after that prefix is the key here). ZAS writes
placeholders as `%{name}`; here they are `{name}`. Keys with `.one` / `.other` forms are
pluralised on a `count` as Ruby's I18n does.

The few checks Zendesk's validator does not make (misspelt keys, secure parameters without a
`domainWhitelist`, icon and screenshot sizes) have messages of our own, under `project.`, each
pointing at the Zendesk documentation the rule comes from.
"""

from __future__ import annotations

import json
from typing import Any

MANIFEST_DOCS = "https://developer.zendesk.com/documentation/apps/app-developer-guide/manifest/"
ASSETS_DOCS = "https://developer.zendesk.com/apps/docs/publish/create_assets"
# The link ZAS's secure_settings.rb gives for secure settings.
SECURE_SETTINGS_DOCS = (
    "https://developer.zendesk.com/apps/docs/developer-guide/using_sdk#using-secure-settings")
I18N_DOCS = ("https://developer.zendesk.com/apps/docs/developer-guide/deploying"
             "#app-internationalization")

ZENDESK: dict[str, str] = {
    "missing_manifest": "Could not find manifest.json",
    "nested_manifest": "Could not find manifest.json in the root of the zip file, but "
                       "{found_path} was found. Try re-creating the archive from this directory.",
    "manifest_not_json": "manifest is not proper JSON. {errors}",
    "duplicate_manifest_keys": "Duplicate keys are specified in the manifest.json file. {errors}",
    "duplicate_reference": 'Duplicate reference in manifest: "{key}".',
    "duplicate_reference_values": 'Initially set to "{original}", attempted overwrite to '
                                  '"{attempted}".',
    "symlink_in_zip": "Symlinks are not allowed in the zip file",
    "unacceptable_array": "The manifest field {field} needs to be an array, but it was {value}",
    "unacceptable_array_of_strings": "The manifest field {field} need to be an array "
                                     "containing strings",
    "unacceptable_boolean": '{field} must be a boolean value, got "{value}".',
    "unacceptable_string": '{field} must be a string, got "{value}".',
    "invalid_url": '{field} must be a valid URL, got "{value}".',
    "manifest_keys.missing.one": "Missing required field in manifest: {missing_keys}",
    "manifest_keys.missing.other": "Missing required fields in manifest: {missing_keys}",
    "no_location_required": "Locations can't be defined when you specify requirements only",
    "no_framework_version_required": "Framework versions can't be set when you specify "
                                     "requirements only",
    "invalid_default_locale": "{default_locale} is not a valid default locale.",
    "missing_translation_file": "Missing translation file for locale '{default_locale}'. "
                                "Learn more: " + I18N_DOCS,
    "invalid_host": "{host_name} is an invalid host for apps.",
    "invalid_location.one": "{invalid_locations} is an invalid location in {host_name}.",
    "invalid_location.other": "{invalid_locations} are invalid locations in {host_name}.",
    "blank_location_uri": "{location} location does not specify a URI.",
    "invalid_location_uri": "{uri} is either an invalid location URI, refers to a missing "
                            "asset, or does not use HTTPS.",
    "invalid_location_flexible_type": "{flexible} is an invalid type for the flexible location "
                                      "parameter.",
    "locations_must_be_urls": "App locations need to be URLs for this framework version.",
    "locations_cant_be_urls": "App locations must not be URLs for this framework version.",
    "invalid_version": "{target_version} is not a valid framework version. Available versions "
                       "are: {available_versions}.",
    "parameters_not_an_array": "App parameters must be an array.",
    "duplicate_parameters": "Duplicate app parameters defined: {duplicate_parameters}",
    "invalid_type_parameter.one": "{invalid_types} is an invalid parameter type.",
    "invalid_type_parameter.other": "{invalid_types} are invalid parameter types.",
    "name_as_parameter_name": "Can't call a parameter 'name'",
    "invalid_hidden_parameter.one": "{invalid_params} is set to hidden and cannot be required.",
    "invalid_hidden_parameter.other": "{invalid_params} are set to hidden and cannot be "
                                      "required.",
    "too_many_oauth_parameters": "Too many parameters with type 'oauth': one permitted",
    "oauth_parameter_cannot_be_secure": "oauth parameter cannot be set to be secure.",
    "password_parameter_type_deprecated": "Password parameter type can no longer be used. Use "
                                          "Secure settings instead. Learn more: {link}.",
    "scope_requires_secure_parameter": "Scopes can only be defined on secure parameters.",
    "scopes_cannot_be_empty": "Scopes cannot be empty when defined.",
    "translation.invalid_locale": "{file} is not a valid locale.",
    "translation.not_json": "{file} is not valid JSON. {errors}",
    "translation.not_json_object": "{file} is not a JSON object.",
    "translation.missing_required_key": "Missing required key from {file}: {missing_key}",
    "translation.missing_required_key_on_leaf": "Missing required key {missing_key} on leaf "
                                                "{leaf} from {file}",
    "translation.missing_required_key_for_product": "Missing required key from {file} for "
                                                    "{product}: {missing_key}",
    "translation.insecure_token_parameter_in_manifest": "Make sure to set secure to true when "
                                                        "using keys in Settings. Learn more: "
                                                        "{link}",
    "translation.default_secure_or_hidden_parameter_in_manifest":
        "Default values for secure or hidden parameters are not stored securely. Be sure to "
        "review them and confirm they do not contain sensitive data",
    "unsupported_mime_type_detected.one": "Unsupported MIME type detected in {file_names}.",
    "unsupported_mime_type_detected.other": "Unsupported MIME types detected in {file_names}.",
    "banner.invalid_format": "Banner image must be a PNG file.",
    "banner.invalid_size": "Invalid banner image dimensions. Must be "
                           "{required_banner_width}x{required_banner_height}px.",
}

PROJECT: dict[str, str] = {
    "project.misspelt_key": '"{found}" in {where} is not a key Zendesk reads; did you mean '
                            '"{expected}"? Zendesk ignores unknown keys without a word. '
                            "Learn more: " + MANIFEST_DOCS,
    "project.secure_without_domain_whitelist": "Secure parameters ({params}) are only sent to "
                                               "the domains listed in domainWhitelist, and the "
                                               "manifest lists none. Learn more: "
                                               + MANIFEST_DOCS,
    "project.image_size": "{file} is {width}x{height} pixels; Zendesk asks for {expected}. "
                          "Learn more: " + ASSETS_DOCS,
    "project.image_not_png": "{file} is not a PNG image; Zendesk asks for a PNG file. "
                             "Learn more: " + ASSETS_DOCS,
}


def message(key: str, /, **data: Any) -> str:
    """The text of `key` with its placeholders filled in; `count` picks `.one` or `.other`."""
    if "count" in data:
        key = f"{key}.{'one' if data['count'] == 1 else 'other'}"
    template = ZENDESK.get(key) or PROJECT[key]
    return template.format(**{name: ruby_text(value) for name, value in data.items()})


def ruby_text(value: Any) -> str:
    """A value as Ruby's `to_s` writes it into a message (ZAS interpolates Ruby objects)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ruby_inspect(value)


def ruby_inspect(value: Any) -> str:
    """Ruby's `inspect` of a JSON value: `["a", 1]`, `{"a"=>true}`, `nil`."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(ruby_inspect(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{ruby_inspect(k)}=>{ruby_inspect(v)}"
                               for k, v in value.items()) + "}"
    return str(value)


def ruby_class(value: Any) -> str:
    """The Ruby class name of a parsed JSON value, as ZAS names it in messages."""
    if isinstance(value, bool):
        return "TrueClass" if value else "FalseClass"
    names = {dict: "Hash", list: "Array", str: "String", int: "Integer", float: "Float"}
    return "NilClass" if value is None else names[type(value)]


def ruby_truthy(value: Any) -> bool:
    """Ruby's truth: everything but nil and false (so "" and 0 are true)."""
    return value is not None and value is not False
