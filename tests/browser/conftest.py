"""What the browser tests share: Debian's chromium and chromedriver (/usr/bin) driven by
Selenium, one headless browser per test module, and a check that the page logged no error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # reported by the `driver` fixture
    webdriver = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing() -> list[str]:
    gone = []
    if not os.access(CHROMIUM, os.X_OK):
        gone.append(f"chromium at {CHROMIUM} (Debian package chromium)")
    if not os.access(CHROMEDRIVER, os.X_OK):
        gone.append(f"chromedriver at {CHROMEDRIVER} (Debian package chromium-driver)")
    if webdriver is None:
        gone.append("the selenium package (pip install -e '.[test]')")
    return gone


def viewport(chrome, width: int, height: int) -> None:
    """Sizes the window so that the page itself gets width x height."""
    chrome.set_window_size(width, height)
    inner = chrome.execute_script("return [window.innerWidth, window.innerHeight]")
    chrome.set_window_size(2 * width - inner[0], 2 * height - inner[1])


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    gone = missing()
    if gone:
        reason = "the browser tests need " + " and ".join(gone)
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,800", "--lang=en-US", "--disable-extensions", "--no-first-run",
                     "--disable-background-networking", "--disable-sync", "--disable-component-update",
                     "--disable-default-apps", "--mute-audio", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("unhandledPromptBehavior", "accept")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    viewport(chrome, 1280, 800)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(autouse=True)
def no_page_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that drove the browser fails on any JavaScript error or CSP refusal the page logged."""
    yield
    if "driver" not in request.fixturenames:
        return
    chrome = request.getfixturevalue("driver")
    logs = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
    # Refusals the page showed in words are logged by Chromium as failed loads: those are expected.
    errors = [e["message"] for e in logs if "Failed to load resource" not in e["message"]]
    assert errors == []
