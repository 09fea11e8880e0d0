"""Take the listing's screenshots of the sidebar and the settings page from the running demo:

    python manifest/take_screenshots.py [--ticket N]

starts `customer-value demo --port 0 --customers 40` (a fixed clock, so the same data every
time), opens the demo's N-th ticket (default SHOWN_TICKET) in headless Chromium (Debian's
chromium and chromedriver, with the flags of tests/test_browser.py) and saves
`assets/screenshot-0.png` at 1024x768, the size Zendesk's "Create app brand assets" page asks
for; then opens the demo's settings page, sets the ticket-volume weight to 0 so the live
preview shows what would move, and saves `assets/screenshot-1.png`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "assets" / "screenshot-0.png"
SETTINGS_OUTPUT = HERE / "assets" / "screenshot-1.png"
SCRIPT = Path(sys.executable).with_name("customer-value")
CUSTOMERS = 40
SHOWN_TICKET = 3  # a customer with a rich history in the seeded demo
NOW = "2025-06-01T00:00:00+00:00"
WIDTH, HEIGHT = 1024, 768
START_SECONDS = 120
LOAD_SECONDS = 30
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars")


def start_demo() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([str(SCRIPT), "demo", "--port", "0", "--customers",
                                str(CUSTOMERS), "--now", NOW],
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        line = process.stderr.readline() if process.stderr else ""
        if not line and process.poll() is not None:
            break
        found = re.search(r"demo on (http://\S+)", line)
        if found:
            return process, found.group(1)
    stop_demo(process)
    raise SystemExit("the demo did not start")


def stop_demo(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
    if process.stderr:
        process.stderr.close()


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    return driver


def screenshot(url: str, ticket: int, out: Path) -> None:
    driver = browser()
    try:
        driver.get(url)
        links = driver.find_elements(By.CSS_SELECTOR, "tbody a")
        driver.get(links[ticket].get_attribute("href"))
        wait = WebDriverWait(driver, LOAD_SECONDS)
        wait.until(ready.frame_to_be_available_and_switch_to_it("cv-frame"))
        wait.until(lambda d: d.find_element(By.ID, "cv-root").get_attribute("aria-busy")
                   == "false")
        driver.switch_to.default_content()
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def settings_screenshot(url: str, out: Path) -> None:
    driver = browser()
    try:
        driver.get(url.rstrip("/") + "/settings")
        wait = WebDriverWait(driver, LOAD_SECONDS)
        weight = wait.until(lambda d: d.find_element(By.ID, "f-weights.ticket_volume"))
        wait.until(lambda d: weight.get_attribute("value") == "25")
        weight.clear()
        weight.send_keys("0")
        wait.until(lambda d: "would change tier" in d.find_element(
            By.ID, "cv-preview-summary").text)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticket", type=int, default=SHOWN_TICKET,
                        help="which ticket of the demo's index to show (from 0)")
    args = parser.parse_args()
    process, url = start_demo()
    try:
        screenshot(url, args.ticket, OUTPUT)
        settings_screenshot(url, SETTINGS_OUTPUT)
    finally:
        stop_demo(process)
    print(f"wrote {OUTPUT} and {SETTINGS_OUTPUT}")


if __name__ == "__main__":
    main()
