"""Headless Chromium for tests: find the binary, screenshot a page, dump its rendered DOM."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 240  # seconds: a cold start on a busy 2-core machine can be slow


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(browser: str, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with its own profile and HOME under ``work`` (it writes both)."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--hide-scrollbars", "--force-device-scale-factor=1", "--force-color-profile=srgb",
           f"--user-data-dir={work / 'profile'}", *args]
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def screenshot(browser: str, page: Path, png: Path, size: tuple[int, int] = (1280, 2000)) -> None:
    """Write a PNG screenshot of ``page`` at ``size`` (width, height); raises with Chromium's stderr if none."""
    proc = _run(browser, png.parent / f"{png.stem}-chromium", f"--screenshot={png}",
                f"--window-size={size[0]},{size[1]}", page.resolve().as_uri())
    if not png.exists():
        raise AssertionError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}")


def dump_dom(browser: str, page: Path, work: Path) -> str:
    """The DOM of ``page`` after Chromium parsed and rendered it, serialized as HTML."""
    proc = _run(browser, work, "--dump-dom", page.resolve().as_uri())
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise AssertionError(f"chromium --dump-dom failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout
