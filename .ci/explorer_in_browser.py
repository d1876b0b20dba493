"""Open the run explorer (results/explorer.html) in headless Chromium and check what a reader sees:

    python .ci/explorer_in_browser.py EXPLORER.html SUMMARY.csv SCREENSHOT_DIR

Checks that the page draws one curve per run of summary.csv that finished an epoch, that unticking an
experiment hides its runs, that "mean" adds a mean and a band per configuration, that hovering a curve
names its run, and that the page reports no errors.
Prints the page's size and the seconds from opening it to its plots drawn. Screenshots go to
SCREENSHOT_DIR. Needs Debian's chromium and playwright (as report_in_browser.py).
"""

import csv
import sys
import time
from pathlib import Path

from playwright.sync_api import Error, sync_playwright

from report_in_browser import CHROMIUM, FLAGS

# The curves of the left panel, one trace per run drawn (its mean off), as plotly draws them.
LEFT_CURVES = "#left .scatterlayer .trace"


def expected_runs(summary: Path) -> list[dict]:
    """The runs that recorded an epoch: each has a curve."""
    with summary.open(encoding="utf-8") as file:
        return [row for row in csv.DictReader(file) if float(row["epochs_completed"] or 0) > 0]


def run_id(row: dict) -> str:
    return f"{row['dataset']}/{row['question']}/{row['experiment']}/{row['variant']}/seed{row['seed']}"


def main(explorer: Path, summary: Path, screenshots: Path) -> None:
    screenshots.mkdir(parents=True, exist_ok=True)
    runs = expected_runs(summary)
    messages = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
        page.on("console", lambda message: messages.append(f"console {message.type}: {message.text}")
                if message.type == "error" else None)
        try:
            start = time.perf_counter()
            page.goto(explorer.resolve().as_uri())
            page.locator("body[data-drawn=yes]").wait_for(timeout=60_000)
            load_s = time.perf_counter() - start
            # from the request to the end of the load event: the page's script draws before it ends
            loaded_s = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
            page.screenshot(path=screenshots / "explorer.png")
            drawn = page.locator(LEFT_CURVES).count()
            if drawn != len(runs):
                fail(f"{drawn} curves drawn, expected {len(runs)} (the runs of {summary} that finished an epoch)",
                     messages)

            first = page.locator("input[data-filter=experiment]").first
            experiment = first.get_attribute("value")
            first.uncheck()
            left = [row for row in runs if f"{row['question']}/{row['experiment']}" != experiment]
            page.wait_for_function(f"document.querySelectorAll('{LEFT_CURVES}').length === {len(left)}",
                                   timeout=10_000)
            page.screenshot(path=screenshots / "filtered.png")
            first.check()
            page.wait_for_function(f"document.querySelectorAll('{LEFT_CURVES}').length === {len(runs)}",
                                   timeout=10_000)

            configurations = {(row["question"], row["experiment"], row["variant"]) for row in runs}
            page.locator("#mean").check()  # a mean and a band per configuration, over the runs
            with_mean = len(runs) + 2 * len(configurations)
            page.wait_for_function(f"document.querySelectorAll('{LEFT_CURVES}').length === {with_mean}",
                                   timeout=10_000)
            page.screenshot(path=screenshots / "mean.png")
            page.locator("#mean").uncheck()
            page.wait_for_function(f"document.querySelectorAll('{LEFT_CURVES}').length === {len(runs)}",
                                   timeout=10_000)

            point = page.evaluate("""() => {
                const div = document.getElementById("left"), trace = div._fullData.find(t => t.x.length);
                const xaxis = div._fullLayout.xaxis, yaxis = div._fullLayout.yaxis;
                const box = div.getBoundingClientRect();
                return {x: box.left + xaxis._offset + xaxis.l2p(trace.x[0]),
                        y: box.top + yaxis._offset + yaxis.l2p(trace.y[0])};
            }""")
            page.mouse.move(point["x"], point["y"])
            hover = page.locator("#left .hoverlayer .hovertext")
            hover.first.wait_for(timeout=10_000)
            text = hover.first.text_content()
            page.screenshot(path=screenshots / "hover.png")
            if not any(run_id(row) in text for row in runs):
                fail(f"the hover text names no run: {text!r}", messages)
        except Error as error:
            page.screenshot(path=screenshots / "failed.png")
            fail(f"{type(error).__name__}: {error}", messages)
        finally:
            browser.close()
    if messages:
        fail("the page reported errors", messages)
    print(f"{explorer}: {explorer.stat().st_size / 1e6:.2f} MB, drawn in Chromium in {loaded_s:.2f} s "
          f"({load_s:.2f} s with playwright's round trips): "
          f"{len(runs)} runs' curves, {len(left)} once {experiment} is unticked, with the mean and band of "
          f"{len(configurations)} configurations, hover names a run")


def fail(what: str, messages: list[str]) -> None:
    print(f"ERROR: the run explorer does not work as it should: {what}", *messages, sep="\n  ", file=sys.stderr)
    raise SystemExit(1)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
