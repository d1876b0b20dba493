"""The run explorer as one self-contained HTML page: plotly's JavaScript inline (no network when
it is opened), the records of ``explorer.explorer_records`` once, as JSON, and a small script that
draws them: curves per metric, filters, the mean over seeds, the hyper-parameters per experiment,
and a table of the runs with their links.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from plotly.offline import get_plotlyjs

from homework1.core.files import atomic_write

# The page's own script. D: the records. A run is shown when its question, experiment, variant and seed are
# all ticked; each curves panel draws one trace per shown run (class "run" traces first), and with "mean"
# on, per configuration, the mean over its shown seeds and a band from their min to their max.
SCRIPT = r"""
const D = JSON.parse(document.getElementById("records").textContent);
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"];
const FILTERS = {question: r => r.question, experiment: r => r.question + "/" + r.experiment,
                 variant: r => r.variant, seed: r => String(r.seed)};
const configurations = [...new Set(D.runs.map(r => r.configuration))];
const colorOf = c => COLORS[configurations.indexOf(c) % COLORS.length];
const epochsOf = r => Array.isArray(r.epochs) ? r.epochs : Array.from({length: r.epochs}, (_, i) => i + 1);

function checkboxes(name, values) {
  const box = document.getElementById("filter-" + name);
  for (const value of values) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), {type: "checkbox", checked: true, value});
    input.dataset.filter = name;
    input.addEventListener("change", draw);
    label.append(input, " " + value);
    box.append(label);
  }
}
for (const [name, key] of Object.entries(FILTERS))
  checkboxes(name, [...new Set(D.runs.map(key))].sort((a, b) => name === "seed" ? a - b : a.localeCompare(b)));

function shownRuns() {
  const ticked = {};
  for (const name of Object.keys(FILTERS))
    ticked[name] = new Set([...document.querySelectorAll(`input[data-filter=${name}]:checked`)].map(i => i.value));
  return D.runs.map(r => Object.entries(FILTERS).every(([name, key]) => ticked[name].has(key(r))));
}

function meanTraces(metric, shown) {
  const traces = [];
  for (const configuration of configurations) {
    const runs = D.runs.map((r, i) => i).filter(i => shown[i] && D.runs[i].configuration === configuration
                                                    && D.curves[metric][i]);
    if (!runs.length) continue;
    const byEpoch = new Map();
    for (const i of runs)
      epochsOf(D.runs[i]).forEach((epoch, k) => {
        const value = D.curves[metric][i][k];
        if (value !== null) (byEpoch.get(epoch) || byEpoch.set(epoch, []).get(epoch)).push(value);
      });
    const x = [...byEpoch.keys()].sort((a, b) => a - b);
    const values = x.map(e => byEpoch.get(e));
    const mean = values.map(v => v.reduce((a, b) => a + b, 0) / v.length);
    const color = colorOf(configuration);
    traces.push({x: x.concat([...x].reverse()), y: values.map(v => Math.max(...v))
                   .concat(values.map(v => Math.min(...v)).reverse()), fill: "toself", fillcolor: color,
                 opacity: 0.2, line: {width: 0}, hoverinfo: "skip", showlegend: false, mode: "lines"});
    traces.push({x, y: mean, mode: "lines", line: {color, width: 3}, name: configuration, showlegend: false,
                 hovertemplate: `%{y:.4g} at epoch %{x}<br><b>${configuration}</b>: mean of ${runs.length} `
                                + "seed(s), band min to max<extra></extra>"});
  }
  return traces;
}

function drawCurves(panel, shown, withMean) {
  const metric = document.getElementById(panel + "-metric").value;
  const curves = D.curves[metric] || [];  // none: no run finished an epoch
  const traces = [];
  D.runs.forEach((r, i) => {
    const y = curves[i];
    if (!shown[i] || !y) return;
    traces.push({x: epochsOf(r), y, mode: "lines", meta: i, name: r.id, showlegend: false,
                 line: {color: colorOf(r.configuration), width: 1}, opacity: withMean ? 0.3 : 0.9,
                 hovertemplate: "%{y:.4g} at epoch %{x}<br>" + r.hover + "<extra></extra>"});
  });
  const div = document.getElementById(panel);
  Plotly.react(div, withMean && D.curves[metric] ? traces.concat(meanTraces(metric, shown)) : traces, {
    margin: {l: 60, r: 10, t: 10, b: 40}, hovermode: "closest", uirevision: metric,
    xaxis: {title: {text: "epoch"}}, yaxis: {title: {text: D.labels[metric] || ""}}},
    {displaylogo: false, responsive: true});
}

function drawHparams(shown) {
  const experiment = document.getElementById("hparams-experiment").value;
  const view = D.hparams[experiment];
  const keep = view.runs.map((i, k) => shown[i] ? k : -1).filter(k => k >= 0);
  const div = document.getElementById("hparams");
  const dimensions = view.dimensions.map(d => Object.assign({}, d, {values: keep.map(k => d.values[k])}));
  const finals = dimensions[dimensions.length - 2].values;
  Plotly.react(div, keep.length ? [{type: "parcoords", dimensions,
    line: {color: finals.map(v => v === null ? 0 : v), colorscale: "Viridis", showscale: true,
           colorbar: {title: {text: "val. acc."}}}}] : [],
    {margin: {l: 80, r: 80, t: 50, b: 30}}, {displaylogo: false, responsive: true});
}

function drawTable(shown) {
  document.querySelectorAll("#runs tbody tr").forEach((row, i) => { row.hidden = !shown[i]; });
}

function draw() {
  const shown = shownRuns();
  const withMean = document.getElementById("mean").checked;
  document.getElementById("count").textContent = `${shown.filter(Boolean).length} of ${D.runs.length} runs shown`;
  for (const panel of ["left", "right"]) drawCurves(panel, shown, withMean);
  drawHparams(shown);
  drawTable(shown);
}

for (const panel of ["left", "right"]) {
  const select = document.getElementById(panel + "-metric");
  for (const metric of Object.keys(D.curves)) select.add(new Option(D.labels[metric], metric));
  select.value = select.dataset.initial in D.curves ? select.dataset.initial : Object.keys(D.curves)[0];
  select.addEventListener("change", draw);
}
const experimentSelect = document.getElementById("hparams-experiment");
for (const experiment of Object.keys(D.hparams)) experimentSelect.add(new Option(experiment, experiment));
// first, an experiment whose runs differ in a hyper-parameter (the accuracies are the last two axes)
experimentSelect.value = Object.keys(D.hparams).find(e => D.hparams[e].dimensions.length > 2)
                         || experimentSelect.value;
experimentSelect.addEventListener("change", draw);
document.getElementById("mean").addEventListener("change", draw);

const body = document.querySelector("#runs tbody");
for (const r of D.runs) {
  const row = body.insertRow();
  row.id = "run-" + r.id;
  row.insertCell().textContent = r.id;
  const links = row.insertCell();
  for (const [label, href] of Object.entries(r.links))
    links.append(Object.assign(document.createElement("a"), {href, textContent: label}), " ");
}
draw();
for (const panel of ["left", "right"])
  document.getElementById(panel).on("plotly_click", event => {
    const i = event.points[0].data.meta;
    if (i !== undefined) location.hash = "run-" + D.runs[i].id;
  });
document.body.dataset.drawn = "yes";
"""

STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 1em; }
fieldset { display: inline-block; vertical-align: top; max-height: 9em; overflow-y: auto; margin: 0 .5em .5em 0; }
fieldset label { display: block; white-space: nowrap; }
.panels { display: flex; gap: 1em; } .panels > div { flex: 1; min-width: 0; }
.plot { height: 420px; } #hparams { height: 420px; }
table { border-collapse: collapse; } td { padding: 1px 8px; border-bottom: 1px solid #ddd; }
tr:target { background: #ffe98a; }
"""

FIELDSETS = "".join(f'<fieldset id="filter-{name}"><legend>{name}</legend></fieldset>'
                    for name in ("question", "experiment", "variant", "seed"))


def page(records: dict, title: str, initial_metrics=("val_acc", "train_loss")) -> str:
    """The whole page as text; ``initial_metrics``: what the left and right curves panels show first."""
    data = json.dumps(records, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    left, right = initial_metrics
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style>
<script>{get_plotlyjs()}</script></head>
<body><h1>{html.escape(title)}</h1>
<p>Hover a curve to read its run; click it to go to the run's files below. <span id="count"></span></p>
<div>{FIELDSETS}<label><input type="checkbox" id="mean"> mean over seeds, band from min to max</label></div>
<div class="panels">
<div><select id="left-metric" data-initial="{left}"></select><div id="left" class="plot"></div></div>
<div><select id="right-metric" data-initial="{right}"></select><div id="right" class="plot"></div></div>
</div>
<h2>Hyper-parameters against the final accuracies, one line per run</h2>
<select id="hparams-experiment"></select><div id="hparams"></div>
<h2>The runs</h2>
<table id="runs"><thead><tr><th>run</th><th>its files</th></tr></thead><tbody></tbody></table>
<script type="application/json" id="records">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def write_page(path, records: dict, title: str) -> None:
    """The page, written whole or not at all."""
    text = page(records, title)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
