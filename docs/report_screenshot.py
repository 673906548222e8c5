"""Screenshot of a benchmark's report.html in headless Chromium, for docs/report.png.

The error analysis (face thumbnails from LFW) is removed from the page before the capture, so the
picture holds numbers and charts only, never pixels of the data set. It is still drawn from LFW
results, so it is made on each machine and never committed (.gitignore).

    FACEBENCH_HOME=../shared .venv/bin/facebench benchmark --identification --out runs/ident
    .venv/bin/python docs/report_screenshot.py runs/ident/report.html docs/report.png
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2100, help="pixels from the top of the page")
    args = parser.parse_args()
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        raise SystemExit("needs Debian's chromium-driver (the README's setup command installs it)")
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={args.width},{args.height}")
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.get(args.report.resolve().as_uri())
            WebDriverWait(driver, 90).until(lambda d: d.execute_script("return document.body.dataset.charts"))
            driver.execute_script("document.querySelectorAll('.evidence, img').forEach(e => e.remove())")
            args.out.write_bytes(driver.get_screenshot_as_png())
        finally:
            driver.quit()
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
