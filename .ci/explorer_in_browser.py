"""Open the run explorer in headless Chromium and check what a reader sees:

    python .ci/explorer_in_browser.py EXPLORER.html SUMMARY.csv SCREENSHOT_DIR
    python .ci/explorer_in_browser.py --in-report REPORT.html SUMMARY.csv SCREENSHOT_DIR

The first opens results/explorer.html; the second Snakemake's report built as a zip (--report
report.zip, unpacked: its report.html), its category "explorer", and the page in it. Checks that the
page draws one curve per run of summary.csv that finished an epoch, that unticking an experiment hides
its runs, that "mean" adds a mean and a band per configuration, that hovering a curve names its run,
that clicking it leads to the run's row, whose links (on its own) lead to files that are there, and that
the page reports no errors. Prints the page's size, the seconds from opening it to its plots
drawn, and (on its own) the CPU time its main thread took. Screenshots go to SCREENSHOT_DIR. Needs
Debian's chromium and playwright (as report_in_browser.py).
"""

import csv
import sys
import time
from pathlib import Path

from report_in_browser import chromium_page

# The curves of the left panel, one trace per run drawn (its mean off), as plotly draws them.
LEFT_CURVES = "#left .scatterlayer .trace"
# The explorer's entry in the report (its label in workflow/rules/explorer.smk).
REPORT_ENTRY = "the runs, interactive"


def expected_runs(summary: Path) -> list[dict]:
    """The runs that recorded an epoch: each has a curve."""
    with summary.open(encoding="utf-8") as file:
        return [row for row in csv.DictReader(file) if float(row["epochs_completed"] or 0) > 0]


def run_id(row: dict) -> str:
    return f"{row['dataset']}/{row['question']}/{row['experiment']}/{row['variant']}/seed{row['seed']}"


def curves_drawn(frame, count: int) -> None:
    frame.wait_for_function(f"document.querySelectorAll('{LEFT_CURVES}').length === {count}", timeout=10_000)


def open_in_report(page, report: Path):
    """The frame the report shows the explorer in, once its category and its entry are opened."""
    page.goto(report.resolve().as_uri())
    page.get_by_text("Results", exact=True).first.wait_for(timeout=30_000)
    page.get_by_text("explorer", exact=True).click()
    entry = page.get_by_role("row").filter(has_text=REPORT_ENTRY)
    entry.first.wait_for(timeout=10_000)
    entry.first.locator("svg, button, a").first.click()  # the eye: show the page
    page.locator("iframe").first.wait_for(timeout=10_000)
    return page.locator("iframe").first.element_handle().content_frame()


def check(page, frame, runs: list[dict], screenshots: Path, messages: list[str]) -> tuple[str, list[str]]:
    """The checks on the drawn page in ``frame``; what they found, in words, and the links of the run clicked."""
    drawn = frame.locator(LEFT_CURVES).count()
    if drawn != len(runs):
        fail(f"{drawn} curves drawn, expected {len(runs)} (the runs of summary.csv that finished an epoch)",
             messages)

    first = frame.locator("input[data-filter=experiment]").first
    experiment = first.get_attribute("value")
    first.uncheck()
    left = [row for row in runs if f"{row['question']}/{row['experiment']}" != experiment]
    curves_drawn(frame, len(left))
    page.screenshot(path=screenshots / "filtered.png")
    first.check()
    curves_drawn(frame, len(runs))

    configurations = {(row["question"], row["experiment"], row["variant"]) for row in runs}
    frame.locator("#mean").check()  # a mean and a band per configuration, over the runs
    curves_drawn(frame, len(runs) + 2 * len(configurations))
    page.screenshot(path=screenshots / "mean.png")
    frame.locator("#mean").uncheck()
    curves_drawn(frame, len(runs))

    point = frame.evaluate("""() => {
        const div = document.getElementById("left"), trace = div._fullData.find(t => t.x.length);
        const xaxis = div._fullLayout.xaxis, yaxis = div._fullLayout.yaxis;
        const box = div.getBoundingClientRect();
        return {x: box.left + xaxis._offset + xaxis.l2p(trace.x[0]),
                y: box.top + yaxis._offset + yaxis.l2p(trace.y[0])};
    }""")
    offset = frame.frame_element().bounding_box() if frame.parent_frame else {"x": 0, "y": 0}
    page.mouse.move(offset["x"] + point["x"], offset["y"] + point["y"])
    hover = frame.locator("#left .hoverlayer .hovertext")
    hover.first.wait_for(timeout=10_000)
    text = hover.first.text_content()
    page.screenshot(path=screenshots / "hover.png")
    if not any(run_id(row) in text for row in runs):
        fail(f"the hover text names no run: {text!r}", messages)

    page.mouse.click(offset["x"] + point["x"], offset["y"] + point["y"])  # to the run's row and its links
    target = frame.locator("tr:target")
    target.wait_for(timeout=10_000)
    if not any(run_id(row) == target.locator("td").first.text_content() for row in runs):
        fail(f"a click leads to no run's row: {target.text_content()!r}", messages)
    links = target.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    words = (f"{len(runs)} runs' curves, {len(left)} once {experiment} is unticked, with the mean and band of "
             f"{len(configurations)} configurations, hover names a run, a click leads to its links {links}")
    return words, links


def main(page_path: Path, summary: Path, screenshots: Path, in_report: bool) -> None:
    screenshots.mkdir(parents=True, exist_ok=True)
    runs = expected_runs(summary)
    with chromium_page(1000, screenshots, fail) as (page, messages):
        # the CPU time of the page's main thread (Chrome DevTools Protocol): unlike the clock, not swayed by other work
        devtools = page.context.new_cdp_session(page)
        devtools.send("Performance.enable")
        start = time.perf_counter()
        if in_report:
            frame = open_in_report(page, page_path)
        else:
            page.goto(page_path.resolve().as_uri())
            frame = page.main_frame
        frame.locator("body[data-drawn=yes]").wait_for(timeout=60_000)
        load_s = time.perf_counter() - start
        # from the request to the end of the load event: the page's script draws before it ends
        loaded_s = frame.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
        busy_s = {metric["name"]: metric["value"]
                  for metric in devtools.send("Performance.getMetrics")["metrics"]}["ThreadTime"]
        page.screenshot(path=screenshots / "explorer.png")
        found, links = check(page, frame, runs, screenshots, messages)
    if missing := [link for link in links if not in_report and not (page_path.parent / link).is_file()]:
        fail(f"the page links files that are not there: {', '.join(missing)}", messages)
    where = (f"in the report {page_path}" if in_report else
             f"{page_path} ({page_path.stat().st_size / 1e6:.2f} MB, {busy_s:.2f} s of CPU on its main thread)")
    print(f"the run explorer {where}: drawn in Chromium in {loaded_s:.2f} s ({load_s:.2f} s with playwright's "
          f"round trips): {found}")


def fail(what: str, messages: list[str]) -> None:
    print(f"ERROR: the run explorer does not work as it should: {what}", *messages, sep="\n  ", file=sys.stderr)
    raise SystemExit(1)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    in_report = arguments[:1] == ["--in-report"]
    page_path, summary, screenshots = arguments[in_report:]
    main(Path(page_path), Path(summary), Path(screenshots), in_report)
