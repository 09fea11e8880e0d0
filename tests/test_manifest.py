"""The app package validator: one broken package per rule, each made from the real manifest/
with one change, gives exactly Zendesk's message for it; the real package is clean."""

import json
import shutil
import struct
import zlib
from importlib.metadata import version

import pytest
from click.testing import CliRunner

from plugin.appkit import validate
from plugin.appkit.commands import validate_command
from plugin.web.i18n import locales
from tests.packages import REAL, copy_package, edit, manifest

ASSETS_DOCS = "https://developer.zendesk.com/apps/docs/publish/create_assets"
MANIFEST_DOCS = "https://developer.zendesk.com/documentation/apps/app-developer-guide/manifest/"
SECURE_DOCS = "https://developer.zendesk.com/apps/docs/developer-guide/using_sdk" \
              "#using-secure-settings"
LISTING_KEYS = ("name", "short_description", "long_description", "installation_instructions")


def png(width, height):
    """A valid, blank RGB PNG of that size."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x00" * 3 * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))








def write(name, content):
    def apply(folder):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return apply


def remove(name):
    return lambda folder: (folder / name).unlink()


def location(name):
    return lambda data: data["location"]["support"][name]


def param(data, name):
    return next(p for p in data["parameters"] if p["name"] == name)


def also(*changes):
    def apply(folder):
        for change in changes:
            change(folder)
    return apply


ASKED = ({"name": "api_user_email", "type": "text", "required": True},
         {"name": "zendesk_api_token", "type": "text", "required": True, "secure": True,
          "scopes": ["header"]},
         {"name": "webhook_signing_secret", "type": "text", "required": False, "secure": True,
          "scopes": ["header"]})
"""Parameters of the kind apps ask for (the real package asks for none: set-up happens on the
app's own page), for the rules about parameters."""


def with_parameters(*changes):
    """The real package asking for `ASKED` (labelled in every language), then `changes`."""
    def label(translations):
        translations["app"]["parameters"] = {p["name"]: {"label": p["name"]} for p in ASKED}
    return also(manifest(lambda m: m.update(parameters=[dict(p) for p in ASKED])),
                *(edit(f"translations/{locale}.json", label) for locale in ("en", "de")),
                *changes)


def nest(folder):
    inner = folder / "app"
    inner.mkdir()
    for entry in ("manifest.json", "translations", "assets"):
        shutil.move(folder / entry, inner / entry)


def link(folder):
    (folder / "assets" / "link.png").symlink_to(folder / "assets" / "logo.png")


E, W = "error", "warning"
BROKEN = [
    ("not JSON", write("manifest.json", '{"name": "x",}'),
     [(E, "manifest is not proper JSON. Expecting property name enclosed in double quotes: "
          "line 1 column 14 (char 13)")]),
    ("duplicate key", write("manifest.json", '{"version": "0.1.0", "version": "0.2.0"}'),
     [(E, 'Duplicate keys are specified in the manifest.json file. Duplicate reference in '
          'manifest: "version". Initially set to "0.1.0", attempted overwrite to "0.2.0".')]),
    ("no manifest", remove("manifest.json"), [(E, "Could not find manifest.json")]),
    ("nested manifest", nest,
     [(E, "Could not find manifest.json in the root of the zip file, but app/manifest.json was "
          "found. Try re-creating the archive from this directory.")]),
    ("no author", manifest(lambda m: m.pop("author")),
     [(E, "Missing required field in manifest: author")]),
    ("no author nor locale", manifest(lambda m: [m.pop("author"), m.pop("defaultLocale")]),
     [(E, "Missing required fields in manifest: author, defaultLocale")]),
    ("no location", manifest(lambda m: m.pop("location")),
     [(E, "Missing required field in manifest: location")]),
    ("no framework version", manifest(lambda m: m.pop("frameworkVersion")),
     [(E, "Missing required field in manifest: frameworkVersion")]),
    ("boolean", manifest(lambda m: m.update(signedUrls="yes")),
     [(E, 'signedUrls must be a boolean value, got "yes".')]),
    ("string", manifest(lambda m: m.update(version=1)),
     [(E, 'version must be a string, got "1".')]),
    ("framework version", manifest(lambda m: m.update(frameworkVersion="3.0")),
     [(E, "3.0 is not a valid framework version. Available versions are: 0.5, 1.0, 2.0.")]),
    ("location name", manifest(lambda m: m["location"]["support"].update(
        settings_page=m["location"]["support"].pop("nav_bar"))),
     [(E, "settings_page is an invalid location in Support.")]),
    ("host", manifest(lambda m: m["location"].update(desk={"nav_bar": "assets/logo.png"})),
     [(E, "desk is an invalid host for apps.")]),
    ("plain http", manifest(lambda m: location("ticket_sidebar")(m).update(
        url="http://customer-value.example.com/sidebar")),
     [(E, "http://customer-value.example.com/sidebar is either an invalid location URI, refers "
          "to a missing asset, or does not use HTTPS.")]),
    ("missing asset", manifest(lambda m: location("nav_bar")(m).update(
        url="assets/settings.html")),
     [(E, "assets/settings.html is either an invalid location URI, refers to a missing asset, "
          "or does not use HTTPS.")]),
    ("no URL", manifest(lambda m: location("ticket_sidebar")(m).pop("url")),
     [(E, "ticket_sidebar location does not specify a URI.")]),
    ("flexible", manifest(lambda m: location("ticket_sidebar")(m).update(flexible="yes")),
     [(E, "yes is an invalid type for the flexible location parameter.")]),
    ("legacy locations", manifest(lambda m: m.update(location=["ticket_sidebar"])),
     [(E, "App locations need to be URLs for this framework version.")]),
    ("locale name", manifest(lambda m: m.update(defaultLocale="EN")),
     [(E, "EN is not a valid default locale.")]),
    ("default locale file", manifest(lambda m: m.update(defaultLocale="fr")),
     [(E, "Missing translation file for locale 'fr'. Learn more: https://developer.zendesk.com"
          "/apps/docs/developer-guide/deploying#app-internationalization")]),
    ("parameter type", with_parameters(manifest(
        lambda m: param(m, "api_user_email").update(type="dropdown"))),
     [(E, "dropdown is an invalid parameter type.")]),
    ("password type", with_parameters(manifest(
        lambda m: param(m, "zendesk_api_token").update(type="password"))),
     [(E, f"Password parameter type can no longer be used. Use Secure settings instead. "
          f"Learn more: {SECURE_DOCS}.")]),
    ("duplicate parameter", with_parameters(manifest(lambda m: m["parameters"].append(
        {"name": "api_user_email", "type": "text"}))),
     [(E, 'Duplicate app parameters defined: ["api_user_email"]')]),
    ("reserved name", manifest(lambda m: m["parameters"].append({"name": "name"})),
     [(E, "Can't call a parameter 'name'")]),
    ("hidden and required", manifest(lambda m: m["parameters"].append(
        {"name": "account_id", "type": "hidden", "required": True})),
     [(E, "account_id is set to hidden and cannot be required.")]),
    ("required not boolean", with_parameters(manifest(lambda m: param(m, "api_user_email").update(
        required="yes"))),
     [(E, 'parameters.api_user_email.required must be a boolean value, got "yes".')]),
    ("scopes not secure", with_parameters(manifest(lambda m: param(m, "api_user_email").update(
        scopes=["header"]))),
     [(E, "Scopes can only be defined on secure parameters.")]),
    ("empty scopes", with_parameters(manifest(
        lambda m: param(m, "zendesk_api_token").update(scopes=[]))),
     [(E, "Scopes cannot be empty when defined.")]),
    ("parameters not array", manifest(lambda m: m.update(parameters={})),
     [(E, "The manifest field parameters needs to be an array, but it was Hash"),
      (E, "App parameters must be an array.")]),
    ("whitelist of strings", manifest(lambda m: m.update(domainWhitelist=[1])),
     [(E, "The manifest field domainWhitelist need to be an array containing strings")]),
    ("author URL", manifest(lambda m: m["author"].update(url="customer-value.example.com")),
     [(E, 'author url must be a valid URL, got "customer-value.example.com".')]),
    ("locale file name", write("translations/english.json", "{}"),
     [(E, "translations/english.json is not a valid locale.")]),
    ("translation JSON", write("translations/de.json", "{"),
     [(E, "translations/de.json is not valid JSON. Expecting property name enclosed in double "
          "quotes: line 1 column 2 (char 1)")]),
    ("translation object", write("translations/de.json", "[]"),
     [(E, "translations/de.json is not a JSON object.")]),
    ("parameter label", with_parameters(edit("translations/de.json", lambda t: t["app"][
        "parameters"]["zendesk_api_token"].pop("label"))),
     [(E, "Missing required key label on leaf zendesk_api_token from translations/de.json")]),
    ("public listing keys", also(
        manifest(lambda m: m.update(private=False)),
        edit("translations/en.json", lambda t: [t["app"].pop("long_description"),
                                                t["app"].pop("installation_instructions")])),
     [(E, "Missing required key from translations/en.json: installation_instructions, "
          "long_description")]),
    ("private app name", edit("translations/en.json", lambda t: t["app"].pop("name")),
     [(E, "Missing required key from translations/en.json: name")]),
    ("banned file type", write("assets/guide.pdf", b"%PDF-1.4"),
     [(E, "Unsupported MIME type detected in assets/guide.pdf.")]),
    ("renamed archive", write("assets/data.json", b"PK\x03\x04rest"),
     [(E, "Unsupported MIME type detected in assets/data.json.")]),
    ("banner size", write("assets/banner.png", png(800, 200)),
     [(E, "Invalid banner image dimensions. Must be 830x200px.")]),
    ("banner format", write("assets/banner.png", b"\xff\xd8\xff\xe0 a JPEG"),
     [(E, "Banner image must be a PNG file.")]),
    ("symlink", link, [(E, "Symlinks are not allowed in the zip file")]),
    ("no whitelist", with_parameters(manifest(lambda m: m.pop("domainWhitelist"))),
     [(W, "Secure parameters (zendesk_api_token, webhook_signing_secret) are only sent to the "
          "domains listed in domainWhitelist, and the manifest lists none. Learn more: "
          + MANIFEST_DOCS)]),
    ("misspelt whitelist", with_parameters(manifest(lambda m: m.update(
        domainWhiteList=m.pop("domainWhitelist")))),
     [(W, '"domainWhiteList" in manifest.json is not a key Zendesk reads; did you mean '
          '"domainWhitelist"? Zendesk ignores unknown keys without a word. Learn more: '
          + MANIFEST_DOCS),
      (W, "Secure parameters (zendesk_api_token, webhook_signing_secret) are only sent to the "
          "domains listed in domainWhitelist, and the manifest lists none. Learn more: "
          + MANIFEST_DOCS)]),
    ("misspelt parameter key", with_parameters(manifest(lambda m: param(m, "api_user_email").update(
        Required=param(m, "api_user_email").pop("required")))),
     [(W, '"Required" in parameter api_user_email is not a key Zendesk reads; did you mean '
          '"required"? Zendesk ignores unknown keys without a word. Learn more: '
          + MANIFEST_DOCS)]),
    ("secret not secure", manifest(lambda m: m["parameters"].append(
        {"name": "crm_api_key", "type": "text"})),
     [(W, f"Make sure to set secure to true when using keys in Settings. Learn more: "
          f"{SECURE_DOCS}")]),
    ("secure default", with_parameters(manifest(
        lambda m: param(m, "zendesk_api_token").update(default="x"))),
     [(W, "Default values for secure or hidden parameters are not stored securely. Be sure to "
          "review them and confirm they do not contain sensitive data")]),
    ("logo size", write("assets/logo.png", png(300, 300)),
     [(W, f"assets/logo.png is 300x300 pixels; Zendesk asks for 320x320. Learn more: "
          f"{ASSETS_DOCS}")]),
    ("small logo format", write("assets/logo-small.png", b"GIF89a"),
     [(W, f"assets/logo-small.png is not a PNG image; Zendesk asks for a PNG file. Learn more: "
          f"{ASSETS_DOCS}")]),
    ("screenshot size", write("assets/screenshot-0.png", png(800, 600)),
     [(W, f"assets/screenshot-0.png is 800x600 pixels; Zendesk asks for 1024x768 or 2048x1536. "
          f"Learn more: {ASSETS_DOCS}")]),
]


@pytest.mark.parametrize(("change", "expected"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_each_broken_package_gets_zendesks_message(tmp_path, change, expected):
    change(copy_package(tmp_path))
    report = validate(tmp_path)
    assert [(p.level, p.message) for p in report.problems] == expected
    assert report.ok == all(level == W for level, _ in expected)


ACCEPTED = [
    ("localhost over http", manifest(lambda m: location("ticket_sidebar")(m).update(
        url="http://localhost:5000/sidebar"))),
    ("an asset of the package", also(write("assets/settings.html", "<p>settings</p>"),
                                     manifest(lambda m: location("nav_bar")(m).update(
                                         url="assets/settings.html")))),
    ("a setting placeholder", manifest(lambda m: location("ticket_sidebar")(m).update(
        url="{{setting.server}}/sidebar"))),
    ("a double-size banner", write("assets/banner.png", png(1660, 400))),
    ("a double-size screenshot", write("assets/screenshot-1.png", png(2048, 1536))),
    ("a legacy description key", edit("translations/en.json", lambda t: t["app"].update(
        description=t["app"].pop("short_description")))),
]


@pytest.mark.parametrize("change", [case[1] for case in ACCEPTED],
                         ids=[case[0] for case in ACCEPTED])
def test_what_zendesk_accepts_passes(tmp_path, change):
    change(copy_package(tmp_path))
    assert validate(tmp_path).problems == ()


def test_the_real_package_is_clean():
    assert validate(REAL).problems == ()


def test_only_the_package_files_are_checked(tmp_path):
    copy_package(tmp_path)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")  # beside the package, never zipped
    assert validate(tmp_path).problems == ()


def test_translations_cover_every_language_of_the_sidebar_with_every_label():
    parameters = [p["name"] for p in json.loads((REAL / "manifest.json").read_text())[
        "parameters"]]
    for locale in locales():
        app = json.loads((REAL / "translations" / f"{locale}.json").read_text())["app"]
        assert all(app.get(key) for key in LISTING_KEYS), locale
        assert all(app["parameters"][name]["label"] for name in parameters), locale
        assert "Connect with Zendesk" in app["installation_instructions"] or locale != "en"


def test_the_manifest_is_what_the_issue_asks_for():
    data = json.loads((REAL / "manifest.json").read_text())
    assert data["version"] == version("customer-value-zendesk")
    assert data["signedUrls"] is True and data["frameworkVersion"] == "2.0"
    assert set(data["location"]["support"]) == {"ticket_sidebar", "user_sidebar",
                                                "organization_sidebar", "nav_bar"}
    assert "domainWhitelist" in data
    # Nothing to type in when installing: set-up happens on the app's own page, and secure
    # settings would only reach Zendesk's request proxy, never this server.
    assert data["parameters"] == []


def test_validate_prints_every_problem_and_fails_on_errors(tmp_path):
    copy_package(tmp_path)
    manifest(lambda m: [m.pop("author"), m.update(signedUrls="yes")])(tmp_path)
    write("assets/logo.png", png(300, 300))(tmp_path)
    result = CliRunner().invoke(validate_command, [str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: Missing required field in manifest: author",
        'error: signedUrls must be a boolean value, got "yes".',
        f"warning: assets/logo.png is 300x300 pixels; Zendesk asks for 320x320. Learn more: "
        f"{ASSETS_DOCS}",
        f"{tmp_path}: 2 errors, 1 warning.",
    ]


def test_validate_passes_with_warnings_alone(tmp_path):
    copy_package(tmp_path)
    write("assets/logo.png", png(300, 300))(tmp_path)
    result = CliRunner().invoke(validate_command, [str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("warning: assets/logo.png is 300x300")
    assert result.output.splitlines()[-1] == \
        f"{tmp_path}: no errors, 1 warning by the offline rules; ready to package."


def test_validate_checks_the_apps_own_package_by_default():
    result = CliRunner().invoke(validate_command, [])
    assert result.exit_code == 0
    assert result.output == f"{REAL}: no errors by the offline rules; ready to package.\n"


@pytest.mark.slow
def test_validate_remote_asks_zendesks_validator(tmp_path, monkeypatch):
    from integrations.errors import BadResponse
    from integrations.sandbox import running_sandbox
    from integrations.zendesk import ZendeskClient, ZendeskConfig
    from plugin.demo.generator import generate
    from tests.sandbox_fixtures import NOW

    generate(tmp_path / "account", 3, seed=1, now=NOW)
    with running_sandbox(tmp_path / "account", now=NOW) as base_url:
        for name, value in (("ZENDESK_BASE_URL", base_url), ("ZENDESK_EMAIL", "a@acme.test"),
                            ("ZENDESK_API_TOKEN", "t")):
            monkeypatch.setenv(name, value)
        accepted = CliRunner().invoke(validate_command, ["--remote"])
        assert accepted.exit_code == 0, accepted.output
        assert f"{base_url}: Zendesk's validator accepted the package." in accepted.output
        client = ZendeskClient.connect(ZendeskConfig(base_url, "a@acme.test", "t"))
        with pytest.raises(BadResponse, match="Could not find manifest.json"):
            client.validate_app(b"PK\x05\x06" + bytes(18))  # an empty zip
        client.close()
    monkeypatch.delenv("ZENDESK_BASE_URL")
    monkeypatch.delenv("ZENDESK_SUBDOMAIN", raising=False)
    missing = CliRunner().invoke(validate_command, ["--remote"])
    assert missing.exit_code == 1 and "--remote needs a Zendesk account" in missing.output


@pytest.mark.parametrize("locale", ["en", "de"])
def test_the_admin_text_does_not_ask_for_a_webhook_or_trigger_by_hand(locale):
    text = json.loads((REAL / "translations" / f"{locale}.json").read_text(encoding="utf-8"))
    instructions = text["app"]["installation_instructions"]
    for by_hand in ("create a webhook", "paste the webhook", "a trigger that sends",
                    "Legen Sie einen Webhook", "tragen Sie das Signaturgeheimnis"):
        assert by_hand not in instructions
    said = {"en": "the app creates its own webhook and trigger",
            "de": "Die App legt ihren Webhook und Trigger in Zendesk selbst an"}[locale]
    assert said in instructions
