"""The account overview in a real headless Chromium at an admin page's width (1,200 px), on
the demo account: search, a filter, sorting, paging, a CSV export and a pin, with axe-core
finding no violation. Screenshots land in test-artifacts/."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from plugin.demo.generator import generate
from tests.chromium import chromium, screenshot, violations
from tests.demo_app import running_demo

pytestmark = pytest.mark.slow  # a demo server and a browser

ADMIN_WIDTH = 1200


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """An account whose history runs up to the app's own clock (the real present): with one
    that ended long ago, every customer would have gone quiet by the overview's reading."""
    folder = tmp_path_factory.mktemp("account")
    now = datetime.now(UTC).replace(microsecond=0)
    generate(folder, 120, seed=11, now=now)
    with running_demo(folder, now) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    driver = chromium(ADMIN_WIDTH, 1000)
    yield driver
    driver.quit()


def rows(browser):
    return browser.find_elements(By.CSS_SELECTOR, "#cv-customers tbody tr")


def count(browser) -> int:
    return int(browser.find_element(By.ID, "cv-count").text.split()[0].replace(",", ""))


def settled(browser, before: str):
    """Wait until the table shows something other than `before` (the last page's text)."""
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "cv-customers").text != before)
    return browser.find_element(By.ID, "cv-customers").text


def values(browser) -> list[float]:
    return [float(r.find_elements(By.TAG_NAME, "td")[3].text) for r in rows(browser)]


def test_search_filter_sort_page_and_export(demo, browser):
    browser.get(demo + "overview")
    WebDriverWait(browser, 30).until(lambda d: len(rows(d)) == 25)
    total = count(browser)
    assert total >= 100
    first = values(browser)
    assert first == sorted(first, reverse=True)
    link = rows(browser)[0].find_element(By.TAG_NAME, "a")
    assert "/agent/users/" in link.get_attribute("href")
    assert browser.find_element(By.CSS_SELECTOR, "#cv-shares img").get_attribute("alt")
    screenshot(browser, "overview")
    found = violations(browser)
    assert not found, found

    table = browser.find_element(By.ID, "cv-customers").text
    browser.find_element(By.ID, "cv-next").click()
    table = settled(browser, table)
    assert "Page 2" in browser.find_element(By.ID, "cv-page").text
    assert values(browser)[0] <= first[-1]

    Select(browser.find_element(By.NAME, "order")).select_by_value("asc")
    table = settled(browser, table)
    lowest = values(browser)
    assert lowest == sorted(lowest) and "Page 1" in browser.find_element(By.ID, "cv-page").text

    Select(browser.find_element(By.NAME, "tier")).select_by_value("high")
    table = settled(browser, table)
    tiers = {r.find_elements(By.TAG_NAME, "td")[4].text.split()[0] for r in rows(browser)}
    assert tiers == {"high"} and count(browser) < total

    name = rows(browser)[0].find_element(By.TAG_NAME, "a").text
    browser.find_element(By.NAME, "q").send_keys(name)
    settled(browser, table)
    WebDriverWait(browser, 20).until(lambda d: all(
        name.lower() in r.text.lower() for r in rows(d)) and rows(d))

    csv_text = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const token = JSON.parse(document.getElementById('cv-config').textContent).token;"
        "fetch('/api/overview/customers.csv?tier=high&q=' + encodeURIComponent(arguments[0]),"
        " {headers: {Authorization: 'Bearer ' + token}}).then(r => r.text()).then(done);", name)
    exported = list(csv.DictReader(io.StringIO(csv_text)))
    assert exported and all(r["tier"] == "high" and name.lower() in r["name"].lower()
                            for r in exported)
    browser.find_element(By.ID, "cv-export").click()  # the button's download runs without error
    screenshot(browser, "overview-filtered")


def test_a_pin_shows_in_the_table_and_its_history(demo, browser):
    browser.get(demo + "overview")
    WebDriverWait(browser, 30).until(lambda d: len(rows(d)) == 25)
    link = rows(browser)[-1].find_element(By.TAG_NAME, "a")
    user_id, name = link.get_attribute("href").rsplit("/", 1)[1], link.text
    form = browser.find_element(By.ID, "cv-pin")
    form.find_element(By.NAME, "subject_id").send_keys(user_id)
    Select(form.find_element(By.NAME, "tier")).select_by_value("high")
    form.find_element(By.NAME, "reason").send_keys("Renewal <b>under</b> way")
    browser.execute_script(
        "arguments[0].value = new Date(Date.now() + 30 * 864e5).toISOString().slice(0, 10)",
        form.find_element(By.NAME, "expires_at"))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "cv-pin-status").text == "Pinned.")
    pins = browser.find_element(By.ID, "cv-pins").text
    assert f"Customer {user_id}" in pins and "Renewal <b>under</b> way" in pins

    browser.find_element(By.ID, "cv-refresh").click()
    browser.find_element(By.NAME, "q").send_keys(name)
    WebDriverWait(browser, 30).until(
        lambda d: any(name in line and "high (pinned)" in line for line in
                      d.find_element(By.ID, "cv-customers").text.splitlines()))
    screenshot(browser, "overview-pinned")
    found = violations(browser)
    assert not found, found


def test_an_admin_adds_an_alert_rule(demo, browser):
    browser.get(demo + "overview")
    form = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "cv-rule"))
    Select(form.find_element(By.NAME, "kind")).select_by_value("value_drop")
    threshold = form.find_element(By.NAME, "threshold")
    threshold.clear()
    threshold.send_keys("12")
    form.find_element(By.NAME, "tag").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        lambda d: "more than 12 points" in d.find_element(By.ID, "cv-rules").text)
    assert "tag cv_alert" in browser.find_element(By.ID, "cv-rules").text
    found = violations(browser)
    assert not found, found


def test_the_overview_json_is_what_the_page_shows(demo, browser):
    browser.get(demo + "overview")
    summary = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const token = JSON.parse(document.getElementById('cv-config').textContent).token;"
        "fetch('/api/overview', {headers: {Authorization: 'Bearer ' + token}})"
        ".then(r => r.json()).then(done);")
    assert sum(summary["tiers"].values()) > 0
    assert json.dumps(summary["drops"]) and summary["refreshed_at"]
