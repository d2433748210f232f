"""Headless Chromium from Debian's packages, driven by Selenium, and the dashboards as
`vfl dashboard` starts them. No browser is downloaded: the test uses /usr/bin/chromium and
/usr/bin/chromedriver (`apt-get install chromium chromium-driver`; .ci/run installs them)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.e2e.deployment import VFL

CHROMIUM = Path(os.environ.get("VFL_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("VFL_CHROMEDRIVER", "/usr/bin/chromedriver"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dashboard:
    """One `vfl dashboard ...` process on a free loopback port."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [*VFL, "dashboard", *args, "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, limit_s: float = 90) -> None:
        deadline = time.monotonic() + limit_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dashboard on {self.url} did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def chromium(width: int = 1400, height: int = 2400) -> webdriver.Chrome:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def wait_text(driver: webdriver.Chrome, text: str, limit_s: float = 120) -> str:
    """The page's visible text once it contains `text`; the limit only ends a hung test."""
    deadline = time.monotonic() + limit_s
    body = ""
    while time.monotonic() < deadline:
        try:
            body = driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            body = ""
        if text in body:
            return body
        time.sleep(0.25)
    raise AssertionError(f"{text!r} never appeared; the page shows:\n{body[-3000:]}")


def button(driver: webdriver.Chrome, label: str, limit_s: float = 60) -> WebElement:
    """The enabled button labelled `label`, once the page has drawn it."""
    deadline = time.monotonic() + limit_s
    xpath = f"//button[normalize-space(.)='{label}' and not(@disabled)]"
    while True:
        found = driver.find_elements(By.XPATH, xpath)
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no enabled button {label!r}")
        time.sleep(0.2)


def settle(driver: webdriver.Chrome, limit_s: float = 30) -> None:
    """Until Streamlit reports no script running (its status widget disappears)."""
    deadline = time.monotonic() + limit_s
    time.sleep(0.3)
    while time.monotonic() < deadline:
        if not driver.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget']"):
            return
        time.sleep(0.2)


def wait_for(driver: webdriver.Chrome, css: str, limit_s: float = 30) -> WebElement:
    """The first element matching `css`, once there is one."""
    deadline = time.monotonic() + limit_s
    while True:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no element matches {css!r}")
        time.sleep(0.2)
