"""The set-up of a new account in the demo, in a real headless Chromium: an agent's sidebar
(320 px) says an admin must finish set-up; the admin's page (1200 px) connects the account
through the sandbox's Zendesk authorization page, its checklist follows the first sync, and
then the account's ticket sidebar, loaded as Zendesk loads it (a signed POST, Zendesk's ZAF
SDK talking to the demo's host page), shows a requester's value. Screenshots land in
test-artifacts/ (docs/images/install/ holds copies)."""

import re
from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from plugin.demo.generator import generate
from tests.chromium import SIDEBAR_WIDTH, chromium, screenshot, violations
from tests.demo_app import running_demo

pytestmark = pytest.mark.slow  # a demo subprocess and a browser

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("account")
    generate(folder, 30, seed=5, now=NOW)
    with running_demo(folder, NOW) as url:
        yield url


def serious(driver) -> list[str]:
    return [v for v in violations(driver) if v.split()[0] in ("serious", "critical")]


def test_an_agent_of_a_new_account_sees_that_an_admin_must_finish_set_up(demo):
    driver = chromium(width=1200, height=900)
    try:
        driver.get(demo + "demo/new-account")
        driver.find_element(By.ID, "cv-open-sidebar").click()
        frame = driver.find_element(By.ID, "cv-frame")
        driver.switch_to.frame(frame)
        assert driver.execute_script("return window.innerWidth") == SIDEBAR_WIDTH
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "An admin needs to finish set-up"
        assert driver.execute_script("return document.documentElement.scrollWidth") \
            <= SIDEBAR_WIDTH
        assert serious(driver) == []
        driver.switch_to.default_content()
        screenshot(driver, "install-2-agent-sidebar")
    finally:
        driver.quit()


def test_an_admin_sets_up_a_new_account_and_its_agents_see_values(demo):
    driver = chromium(width=1200, height=900)
    try:
        driver.get(demo + "demo/new-account")
        screenshot(driver, "install-1-new-account")
        driver.find_element(By.ID, "cv-open-app").click()
        connect = WebDriverWait(driver, 20).until(
            lambda d: d.find_element(By.ID, "cv-connect"))
        assert "Set up Customer Value" in driver.find_element(By.TAG_NAME, "h1").text
        screenshot(driver, "install-3-setup-page")
        assert serious(driver) == []
        setup_window = driver.current_window_handle
        connect.click()
        WebDriverWait(driver, 20).until(lambda d: len(d.window_handles) == 2)
        driver.switch_to.window(next(h for h in driver.window_handles if h != setup_window))
        allow = WebDriverWait(driver, 20).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "button.allow"))
        assert "Allow Customer Value" in driver.find_element(By.TAG_NAME, "h1").text
        screenshot(driver, "install-4-zendesk-authorization")
        allow.click()
        # The window navigates from Zendesk's page back to the app: wait on the page source,
        # which (unlike an element found before the navigation) never goes stale.
        WebDriverWait(driver, 20).until(
            lambda d: "<h1>Customer Value is connected</h1>" in d.page_source)
        screenshot(driver, "install-5-connected")
        assert serious(driver) == []
        driver.close()
        driver.switch_to.window(setup_window)
        WebDriverWait(driver, 60).until(
            lambda d: d.find_element(By.ID, "cv-setup-done").is_displayed())
        rows = driver.find_elements(By.CSS_SELECTOR, "#cv-checklist li:not([hidden])")
        assert all("cv-done" in row.get_attribute("class") for row in rows)
        assert "5 of 5 streams" in rows[1].text
        screenshot(driver, "install-6-checklist-done")
        assert serious(driver) == []

        # Zendesk opens one of the account's tickets: the sidebar is the working app.
        driver.get(demo + "demo/new-account")
        links = driver.find_elements(By.CSS_SELECTOR, "#cv-new-tickets tbody a")
        assert links, "the first sync brought the account's tickets in"
        table = driver.find_element(By.ID, "cv-new-tickets")
        driver.execute_script("arguments[0].scrollIntoView()", table)
        table.screenshot(str(screenshot(driver, "install-7-account-tickets")))
        found = violations(driver)
        assert not found, found
        driver.get(links[0].get_attribute("href"))
        WebDriverWait(driver, 20).until(ready.frame_to_be_available_and_switch_to_it("cv-frame"))
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "return document.documentElement.dataset.state") in ("ready", "error"))
        assert driver.execute_script("return document.documentElement.dataset.state") \
            == "ready", driver.find_element(By.TAG_NAME, "body").text
        assert driver.execute_script("return window.innerWidth") == SIDEBAR_WIDTH
        assert re.fullmatch(r"[+−]?\d+", driver.find_element(By.CSS_SELECTOR, ".cv-value").text)
        assert driver.find_element(By.CSS_SELECTOR, ".cv-badge").text.endswith("value")
        assert "set-up" not in driver.find_element(By.TAG_NAME, "body").text
        assert driver.execute_script("return document.documentElement.scrollWidth") \
            <= SIDEBAR_WIDTH
        found = violations(driver)
        assert not found, found
        driver.switch_to.default_content()
        host = driver.execute_script("return window.cvHost")
        assert host["loads"] == 1 and any(m.get("request") == "get" for m in host["messages"]), \
            "the sidebar asked Zendesk (the host page) through the SDK"
        frame = driver.find_element(By.ID, "cv-frame")
        path = screenshot(driver, "install-8-ticket-sidebar")
        frame.screenshot(str(path.with_name("install-8-ticket-sidebar-320.png")))
        found = violations(driver)
        assert not found, found
    finally:
        driver.quit()
