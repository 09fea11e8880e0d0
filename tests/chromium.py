"""Headless Chromium for the browser tests: Debian's chromium through its chromedriver, at the
width a page really has (320 px for Zendesk's sidebar apps), screenshots saved for people to
look at, and accessibility checked with axe-core (from npm, `tests/npm`, installed by
`.ci/run`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SIDEBAR_WIDTH = 320
"""The width of an app in Agent Workspace's ticket sidebar."""
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
"""Without the background-networking flags Chromium keeps trying hosts this closed network
refuses."""


def chromium(width: int = 1200, height: int = 900) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save what the browser shows as test-artifacts/<name>.png (CI keeps the folder)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def axe(driver: webdriver.Chrome, context: str | None = None) -> dict[str, Any]:
    """axe-core's results for the current document (or the `context` selector): its
    `violations`, each with `id`, `impact`, `help` and the `nodes` it found."""
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run .ci/run (it installs tests/npm)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(arguments[0] || document, {resultTypes: ['violations']})"
        ".then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))}))"
        ".catch(e => done({error: String(e)}));", context)


def violations(driver: webdriver.Chrome, context: str | None = None) -> list[str]:
    """axe's violations as lines people read: "impact id: help (where)"."""
    found = axe(driver, context)
    if "error" in found:
        raise RuntimeError(f"axe did not run: {found['error']}")
    return [f"{v['impact']} {v['id']}: {v['help']} ({', '.join(v['nodes'][:3])})"
            for v in found["violations"]]
