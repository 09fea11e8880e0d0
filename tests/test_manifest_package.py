"""Packaging: the upload-ready zip with the deployment's URL filled in; every URL of the
manifest is served by the Flask app; the icons come from their source."""

import importlib.util
import io
import json
import zipfile
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from werkzeug.exceptions import MethodNotAllowed, NotFound

from plugin import create_app
from plugin.appkit import PackageError, build_package, validate
from plugin.appkit.commands import package_command
from plugin.appkit.packaging import PLACEHOLDER_BASE, Author
from tests.packages import REAL, copy_package, manifest

URL = "https://cv.acme.test/base"
AUTHOR = Author(email="apps@acme.test")
AUTHORED = ["--author-email", "apps@acme.test"]
PACKAGED = {"manifest.json", "translations/en.json", "translations/de.json",
            "assets/logo.png", "assets/logo-small.png", "assets/icon_nav_bar.svg",
            "assets/screenshot-0.png", "assets/screenshot-1.png"}
# Locations whose page arrives with a later issue: /settings comes with the settings page.


def zipped_manifest(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def test_the_zip_holds_the_package_with_the_manifest_at_its_root(tmp_path):
    package = build_package(REAL, URL, tmp_path / "app.zip", AUTHOR)
    with zipfile.ZipFile(package.path) as archive:
        assert set(archive.namelist()) == PACKAGED
        assert archive.testzip() is None
        assert archive.read("assets/logo.png") == (REAL / "assets" / "logo.png").read_bytes()
    assert package.warnings == ()


def test_the_deployments_url_is_filled_in(tmp_path):
    data = zipped_manifest(build_package(REAL, URL + "/", tmp_path / "app.zip", AUTHOR).path)
    support = data["location"]["support"]
    assert support["ticket_sidebar"]["url"] == "https://cv.acme.test/base/sidebar"
    assert support["nav_bar"]["url"] == "https://cv.acme.test/base/settings"
    assert data["domainWhitelist"] == ["cv.acme.test"]
    assert "url" not in data["author"], "the deployment is not the author's web page"
    assert data["author"]["email"] == "apps@acme.test"
    assert PLACEHOLDER_BASE not in json.dumps(data)
    source = json.loads((REAL / "manifest.json").read_text())
    assert data["parameters"] == source["parameters"] and data["version"] == source["version"]


def test_the_zip_validates_once_unpacked(tmp_path):
    build_package(REAL, URL, tmp_path / "app.zip", AUTHOR)
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        archive.extractall(tmp_path / "unpacked")
    assert validate(tmp_path / "unpacked").problems == ()


def test_the_same_input_gives_the_same_zip(tmp_path):
    first = build_package(REAL, URL, tmp_path / "one.zip", AUTHOR).path.read_bytes()
    second = build_package(REAL, URL, tmp_path / "two.zip", AUTHOR).path.read_bytes()
    assert first == second


def test_localhost_may_use_plain_http(tmp_path):
    data = zipped_manifest(build_package(REAL, "http://localhost:5000",
                                         tmp_path / "app.zip", AUTHOR).path)
    assert data["location"]["support"]["ticket_sidebar"]["url"] == \
        "http://localhost:5000/sidebar"
    assert data["domainWhitelist"] == ["localhost"]


@pytest.mark.parametrize("url", ["http://cv.acme.test", "ftp://cv.acme.test", "cv.acme.test",
                                 "https://", "https://cv.acme.test/?x=1",
                                 "https://me:pw@cv.acme.test"])
def test_other_urls_are_refused_and_nothing_is_written(tmp_path, url):
    with pytest.raises(PackageError):
        build_package(REAL, url, tmp_path / "app.zip", AUTHOR)
    assert not (tmp_path / "app.zip").exists()


def test_a_package_with_errors_is_refused_with_them(tmp_path):
    source = copy_package(tmp_path / "source")
    manifest(lambda m: m.pop("author"))(source)
    with pytest.raises(PackageError) as refused:
        build_package(source, URL, tmp_path / "app.zip", AUTHOR)
    assert [p.message for p in refused.value.problems] == [
        "Missing required field in manifest: author"]
    assert not (tmp_path / "app.zip").exists()


def test_a_manifest_without_the_placeholder_is_refused(tmp_path):
    source = copy_package(tmp_path / "source")
    manifest(lambda m: [m["location"]["support"][name].update(url=f"https://other.test/{name}")
                        for name in m["location"]["support"]] + [m["author"].update(
                            url="https://other.test")])(source)
    with pytest.raises(PackageError, match="no URL starting with"):
        build_package(source, URL, tmp_path / "app.zip", AUTHOR)


def test_package_command_writes_the_zip_and_says_where(tmp_path):
    out = tmp_path / "dist" / "app.zip"
    result = CliRunner().invoke(package_command, ["--url", URL, "--out", str(out), *AUTHORED])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out} ({len(PACKAGED)} files) for {URL}\n"
    assert zipped_manifest(out)["domainWhitelist"] == ["cv.acme.test"]


def test_package_command_names_the_zip_after_the_version(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(package_command, [str(REAL), "--url", URL, *AUTHORED])
    assert result.exit_code == 0, result.output
    version = json.loads((REAL / "manifest.json").read_text())["version"]
    assert (tmp_path / "dist" / f"customer-value-app-{version}.zip").is_file()


def test_package_command_refuses_http_with_a_reason(tmp_path):
    result = CliRunner().invoke(package_command, ["--url", "http://cv.acme.test",
                                                  "--out", str(tmp_path / "app.zip")])
    assert result.exit_code == 1
    assert "is not an https:// address" in result.output
    assert not (tmp_path / "app.zip").exists()


def test_package_command_lists_the_problems_that_refused_it(tmp_path):
    source = copy_package(tmp_path / "source")
    manifest(lambda m: m.update(frameworkVersion="3.0"))(source)
    result = CliRunner().invoke(package_command, [str(source), "--url", URL,
                                                  "--out", str(tmp_path / "app.zip")])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == \
        "error: 3.0 is not a valid framework version. Available versions are: 0.5, 1.0, 2.0."


def manifest_urls():
    """(location, path, method Zendesk loads it with) for every URL of the real manifest."""
    data = json.loads((REAL / "manifest.json").read_text())
    method = "POST" if data.get("signedUrls") else "GET"
    for product in data["location"].values():
        for name, options in product.items():
            url = options["url"] if isinstance(options, dict) else options
            assert url.startswith(PLACEHOLDER_BASE + "/"), url
            yield name, urlsplit(url).path, method


def test_every_manifest_url_is_a_route_of_the_app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40,
                      "DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    try:
        routes = app.url_map.bind(urlsplit(PLACEHOLDER_BASE).hostname)
        unrouted = set()
        for name, path, method in manifest_urls():
            try:
                routes.match(path, method=method)
            except NotFound:
                unrouted.add(path)
            except MethodNotAllowed:
                pytest.fail(f"{name}: {path} is routed, but not for Zendesk's {method}")
        assert not unrouted, f"no route for {sorted(unrouted)}"
    finally:
        app.extensions["customer_value"].close()


def test_the_icons_are_drawn_from_their_source():
    from PIL import Image as image
    spec = importlib.util.spec_from_file_location("make_logos", REAL / "make_logos.py")
    make_logos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_logos)
    for name, size, small in make_logos.ICONS:
        drawn = make_logos.render(make_logos.SOURCE, size, small)
        saved = image.open(io.BytesIO((REAL / "assets" / name).read_bytes()))
        assert saved.size == (size, size) and saved.mode == "RGBA"
        assert drawn.tobytes() == saved.tobytes(), f"{name} differs from logo.svg; rerun " \
                                                   "python manifest/make_logos.py"


def test_the_placeholder_author_email_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(PackageError, match="author.email is the placeholder"):
        build_package(REAL, URL, tmp_path / "app.zip")
    assert not (tmp_path / "app.zip").exists()
    result = CliRunner().invoke(package_command, ["--url", URL, "--out",
                                                  str(tmp_path / "app.zip")])
    assert result.exit_code == 1 and "--author-email" in result.output


def test_the_author_comes_from_the_options(tmp_path):
    result = CliRunner().invoke(package_command, [
        "--url", URL, "--out", str(tmp_path / "app.zip"), "--author-name", "Acme Apps",
        "--author-email", "apps@acme.test", "--author-url", "https://apps.acme.test"])
    assert result.exit_code == 0, result.output
    assert zipped_manifest(tmp_path / "app.zip")["author"] == {
        "name": "Acme Apps", "email": "apps@acme.test", "url": "https://apps.acme.test"}
    bad = CliRunner().invoke(package_command, ["--url", URL, "--out", str(tmp_path / "b.zip"),
                                               "--author-email", "not-an-address"])
    assert bad.exit_code == 1 and "is not an email address" in bad.output


def test_the_default_zip_lands_in_a_folder_git_ignores():
    import subprocess

    from plugin.appkit.commands import DEFAULT_ZIP

    ignored = subprocess.run(["git", "check-ignore", "-q", DEFAULT_ZIP.format(version="1.0")],
                             cwd=REAL.parent, check=False)
    assert ignored.returncode == 0, f"{DEFAULT_ZIP} would be committed"
