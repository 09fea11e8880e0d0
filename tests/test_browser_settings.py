"""The settings page in a real headless Chromium at 1,200 px, on the demo account: weights show
their share, exchange rates and segments are rows, an invalid draft says so, unsaved changes
are flagged, a save clears the note and refreshes every panel, a rollback asks first and shows
what it changes, the current version is marked, the health panel lists set-up problems with
what to do; axe finds no violation."""

from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plugin.demo.generator import generate
from tests.chromium import chromium, screenshot, violations
from tests.demo_app import running_demo

pytestmark = pytest.mark.slow  # a demo server and a browser

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 60, seed=5, now=NOW)
    with running_demo(folder, NOW) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    driver = chromium(1200, 1000)
    yield driver
    driver.quit()


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def click(browser, element):
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def wait_for(browser, element_id, words, seconds=20):
    WebDriverWait(browser, seconds).until(lambda d: words in text(d, element_id))


def test_the_settings_page_keeps_up(demo, browser):
    browser.get(demo + "settings")
    weight = WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "f-weights.satisfaction"))
    WebDriverWait(browser, 10).until(lambda d: weight.get_attribute("value") == "25")
    assert browser.find_element(By.ID, "h-weights.satisfaction").text == "25% of benefits"
    rates = browser.find_elements(By.CSS_SELECTOR, "#cv-rates tbody tr")
    assert [r.find_element(By.TAG_NAME, "input").get_attribute("value") for r in rates] == [
        "EUR", "GBP"], "the demo's saved rates are rows"
    wait_for(browser, "cv-health", "What to do")
    assert "current" in text(browser, "cv-versions").splitlines()[0]
    assert browser.find_element(By.ID, "cv-dirty").is_displayed() is False

    weight.clear()
    weight.send_keys("75")
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "h-weights.satisfaction").text == "50% of benefits")
    assert browser.find_element(By.ID, "cv-dirty").is_displayed()
    click(browser, browser.find_element(By.ID, "cv-add-rate"))
    new_rate = browser.find_elements(By.CSS_SELECTOR, "#cv-rates tbody tr")[-1]
    code, rate = new_rate.find_elements(By.TAG_NAME, "input")
    code.send_keys("CHF")
    rate.send_keys("1.12")
    click(browser, browser.find_element(By.ID, "cv-add-segment"))
    browser.find_element(By.CSS_SELECTOR, ".cv-segment input[data-tag]").send_keys("vip")
    click(browser, browser.find_element(By.CSS_SELECTOR, ".cv-segment .c-btn"))  # a weight
    browser.find_element(By.CSS_SELECTOR, ".cv-segment-weight input").send_keys("40")

    low = browser.find_element(By.ID, "f-tiers.low")
    low.clear()
    low.send_keys("90")
    wait_for(browser, "cv-preview-summary", "Invalid draft")
    assert "cv-stale" in browser.find_element(By.ID, "cv-histogram").get_attribute("class")
    low.clear()
    low.send_keys("-15")
    wait_for(browser, "cv-preview-summary", "would change tier")
    screenshot(browser, "settings-draft")
    found = violations(browser)
    assert not found, found

    browser.find_element(By.ID, "f-note").send_keys("More weight on satisfaction")
    browser.find_element(By.ID, "cv-save").click()
    wait_for(browser, "cv-status", "Saved as version 3.")
    assert browser.find_element(By.ID, "f-note").get_attribute("value") == ""
    assert not browser.find_element(By.ID, "cv-dirty").is_displayed()
    first = text(browser, "cv-versions").splitlines()[0]
    assert first.startswith("v3") and "More weight on satisfaction" in first and "current" in first
    assert "v3" in text(browser, "cv-version")
    codes = [r.find_element(By.TAG_NAME, "input").get_attribute("value")
             for r in browser.find_elements(By.CSS_SELECTOR, "#cv-rates tbody tr")]
    assert sorted(codes) == ["CHF", "EUR", "GBP"]
    assert browser.find_element(By.CSS_SELECTOR, ".cv-segment input[data-tag]").get_attribute(
        "value") == "vip"

    click(browser, browser.find_element(
        By.XPATH, "//button[text()='Changes' and @aria-label='Changes in v3']"))
    wait_for(browser, "cv-diff", "Weight: Satisfaction: 25 → 75")
    assert "Exchange rate: CHF: none → 1.12" in text(browser, "cv-diff")

    click(browser, browser.find_element(By.XPATH, "//button[text()='Roll back to v2']"))
    dialog = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "cv-confirm") if d.find_element(
            By.ID, "cv-confirm").is_displayed() else None)
    assert "Weight: Satisfaction: 75 → 25" in dialog.text
    screenshot(browser, "settings-rollback")
    found = violations(browser)
    assert not found, found
    browser.find_element(By.ID, "cv-confirm-no").click()
    assert "v3" in text(browser, "cv-version"), "cancel changes nothing"
    click(browser, browser.find_element(By.XPATH, "//button[text()='Roll back to v2']"))
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "cv-confirm").is_displayed())
    browser.find_element(By.ID, "cv-confirm-yes").click()
    wait_for(browser, "cv-status", "version 4 has the settings of v2")
    assert browser.find_element(By.ID, "f-weights.satisfaction").get_attribute("value") == "25"
    assert text(browser, "cv-diff") == ""
    assert text(browser, "cv-versions").splitlines()[0].startswith("v4")
    assert "Roll back to v4" not in text(browser, "cv-versions")
    screenshot(browser, "settings-after-rollback")
