"""Open Snakemake's HTML report in headless Chromium and check what a reader sees, not the file:
the report is a JavaScript page, and a file check passes even when the browser shows a blank one.

    python .ci/report_in_browser.py REPORT.html SCREENSHOT_DIR CATEGORY...

Checks that the page renders the workflow's description and every result category named, that
the category "claims" lists the forest plot of the report's claims, and that opening it shows
the picture. Fails with the browser's own messages (page errors, console errors) if not.
Screenshots of each view go to SCREENSHOT_DIR. Needs Debian's chromium and playwright.
"""

import sys
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Error, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# No network here: without these Chromium keeps trying to reach Google's services.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
DESCRIPTION = "Homework 1 of a deep-learning course, rerun end to end"
FOREST_PLOT = "the report's claims, paired by seed"


@contextmanager
def chromium_page(height: int, screenshots: Path, fail):
    """A page of headless Chromium, and the list its errors (page errors, console errors) gather in. An
    error of playwright's in the block ends it with a screenshot (failed.png) and ``fail``; so do errors
    the page reported, once the block is done."""
    messages = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
        page.on("console", lambda message: messages.append(f"console {message.type}: {message.text}")
                if message.type == "error" else None)
        try:
            yield page, messages
        except Error as error:
            page.screenshot(path=screenshots / "failed.png")
            fail(f"{type(error).__name__}: {error}", messages)
        finally:
            browser.close()
    if messages:
        fail("the page reported errors", messages)


def main(report: Path, screenshots: Path, categories: list[str]) -> None:
    screenshots.mkdir(parents=True, exist_ok=True)
    with chromium_page(900, screenshots, fail) as (page, messages):
        page.goto(report.resolve().as_uri())
        page.get_by_text("Results", exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=screenshots / "report.png")
        body = page.inner_text("body")
        missing = [name for name in categories if not page.get_by_text(name, exact=True).count()]
        if DESCRIPTION not in body or missing:
            fail(f"the report shows {'no description' if DESCRIPTION not in body else 'its description'}"
                 f"{'; no categories ' + ', '.join(missing) if missing else ''}", messages)
        page.get_by_text("claims", exact=True).click()
        digits_cell = page.locator("td", has_text="digits")
        entry = page.get_by_role("row").filter(has_text=FOREST_PLOT).filter(has=digits_cell)
        entry.first.wait_for(timeout=10_000)
        page.screenshot(path=screenshots / "claims.png")
        entry.first.locator("svg, button, a").first.click()  # the eye: show the figure
        page.locator("img[src^='data:image/png']").first.wait_for(timeout=10_000)
        page.screenshot(path=screenshots / "forest_plot.png")
    print(f"{report}: rendered in Chromium, description, categories {', '.join(categories)} and the forest plot "
          f"shown (screenshots in {screenshots})")


def fail(what: str, messages: list[str]) -> None:
    print(f"ERROR: the HTML report does not render as it should: {what}", *messages, sep="\n  ", file=sys.stderr)
    raise SystemExit(1)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
