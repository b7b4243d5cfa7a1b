"""Write demo.ipynb from the cells below and execute it in place (outputs saved).

    python scripts/make_demo_notebook.py          # rebuild and run demo.ipynb
    python scripts/make_demo_notebook.py --no-run # rebuild without outputs

The notebook uses only the public functions of ``traitement``. It reads a real
Fluid Topics export where one sits in ``data/`` or ``../shared/data/`` (charts
and aggregates only, no raw rows; such a file is never committed) and the
shipped synthetic sample otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

PROJECT_DIR = Path(__file__).resolve().parent.parent
NOTEBOOK = PROJECT_DIR / "demo.ipynb"
CELL_TIMEOUT_S = 120

CELLS: list[tuple[str, str]] = [
    (
        "markdown",
        """# GenAI carbon calculator: a demonstration

This notebook uses only the public functions of the `traitement` package (the same core the CLI `interface.py`
and the API `api.py` call). It shows:

1. the footprint of **one request**, and two comparisons: **A100 versus H100**, **chatbot versus translation**;
2. **models by name** compared, each with the range of its unknown deployment;
3. a year of **Fluid Topics analytics**: daily carbon per service, monthly totals and shares,
   how much each assumption moves the total (a tornado chart), and the regions compared;
4. a **provider's usage export** turned into an **accounting report**: location-based and market-based totals,
   per model and per project, framed as GHG Protocol scope 3 category 1.

Every figure is **scope 2, location-based** carbon (facility energy x grid intensity) unless said otherwise, and
comes with a low-high range from the ranges of the inputs.

The analytics file is a real Fluid Topics export (`2025-FluidTopics-daily-analytics.yaml` in `data/` or
`../shared/data/`) where one is present, otherwise the project's synthetic sample `data/sample-daily-analytics.yaml`.
Only aggregates and charts are shown, never the file's rows.""",
    ),
    (
        "code",
        """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import traitement

sns.set_theme(style="whitegrid", context="notebook")
pd.options.display.float_format = "{:,.4g}".format
config = traitement.load_config()

REAL_NAME = "2025-FluidTopics-daily-analytics.yaml"
candidates = [Path("data") / REAL_NAME, Path("../shared/data") / REAL_NAME, Path("data/sample-daily-analytics.yaml")]
path = next(candidate for candidate in candidates if candidate.is_file())
print("analytics file:", path.name, "(the real file)" if path.name == REAL_NAME else "(the synthetic sample)")""",
    ),
    (
        "markdown",
        """## 1. One request

A chatbot conversation with the default setup: 4 x H100 serving a 70B-class model, the US grid, an industry-average
datacentre. Prefill reads the prompt fast, decode writes the answer one token at a time; the server's power is shared
by the requests served at once (the batch).""",
    ),
    (
        "code",
        """one = traitement.estimate_named(config, traitement.NamedRequest(profile="chatbot")).to_dict()
keys = ["input_tokens", "output_tokens", "prefill_s", "decode_s", "duration_s", "energy_kwh", "carbon_gco2eq", "water_l"]
pd.DataFrame(
    {
        "central": [one[k] for k in keys],
        "low": [one.get(k + "_min") for k in keys],
        "high": [one.get(k + "_max") for k in keys],
    },
    index=keys,
)""",
    ),
    (
        "markdown",
        """## 2. A100 versus H100, chatbot versus translation

The same request on two serving setups (each 4 GPUs serving a 70B-class model), for two usage profiles of a
documentation portal. A chatbot reads many topics (a long prompt) and writes a short answer; a translation reads one topic
and writes it again, so most of its time is decode.""",
    ),
    (
        "code",
        """rows = []
for hardware in ("a100", "h100"):
    for profile in ("chatbot", "translation"):
        answer = traitement.estimate_named(config, traitement.NamedRequest(hardware=hardware, profile=profile)).to_dict()
        rows.append(
            {
                "hardware": hardware,
                "profile": profile,
                "input_tokens": answer["input_tokens"],
                "output_tokens": answer["output_tokens"],
                "duration_s": answer["duration_s"],
                "energy_wh": answer["per_request"]["energy_wh"],
                "energy_wh_min": answer["energy_kwh_min"] * 1000,
                "energy_wh_max": answer["energy_kwh_max"] * 1000,
                "carbon_gco2eq": answer["carbon_gco2eq"],
            }
        )
comparison = pd.DataFrame(rows)
display(comparison)

fig, ax = plt.subplots(figsize=(8, 4))
width = 0.38
for offset, (hardware, part) in zip((-width / 2, width / 2), comparison.groupby("hardware")):
    positions = [index + offset for index in range(len(part))]
    errors = [part["energy_wh"] - part["energy_wh_min"], part["energy_wh_max"] - part["energy_wh"]]
    ax.bar(positions, part["energy_wh"], width, yerr=errors, capsize=4, label=hardware)
ax.set_xticks(range(2), ["chatbot", "translation"])
ax.set_yscale("log")
ax.set_ylabel("Wh per request (log; bars: low-high)")
ax.legend()
ax.set_title("One request: A100 versus H100, chatbot versus translation")
plt.show()""",
    ),
    (
        "markdown",
        """## 3. Models by name

A model named without its hardware gets the **model-aware** estimate: physics fitted on 397 ML.ENERGY measurements,
with the deployment unknown (GPU board, GPU count, precision and batch as ranges; the central value is the fewest H100
that hold the weights, 128 requests at once). The bars are the central values, the lines the ranges; the axis is
logarithmic. The same request (2,000 tokens in, 400 out) costs about thirty times more on a 405-billion-parameter model
than on an 8-billion one.""",
    ),
    (
        "code",
        """rows = []
for name in ("llama-3.1-8b", "qwen3-30b-a3b", "llama-3.1-70b", "mistral-large-2", "deepseek-v3", "llama-3.1-405b"):
    answer = traitement.estimate_named(config, traitement.NamedRequest(model=name, input_tokens=2000, output_tokens=400)).to_dict()
    rows.append(
        {
            "model": name,
            "method": answer["method"],
            "energy_wh": answer["energy_kwh"] * 1000,
            "energy_wh_min": answer["energy_kwh_min"] * 1000,
            "energy_wh_max": answer["energy_kwh_max"] * 1000,
            "carbon_gco2eq": answer["carbon_gco2eq"],
        }
    )
models = pd.DataFrame(rows)
display(models)

fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(models["model"], models["energy_wh"], color=sns.color_palette()[1])
ax.vlines(range(len(models)), models["energy_wh_min"], models["energy_wh_max"], color="black", linewidth=1)
ax.set_yscale("log")
ax.set_ylabel("Wh per request (line: low-high)")
ax.set_title("2,000 tokens in, 400 out: models by name, deployment unknown")
ax.tick_params(axis="x", rotation=20)
plt.show()""",
    ),
    (
        "markdown",
        """## 4. Fluid Topics analytics: from daily counts to carbon

The file counts, per day, the chatbot conversations, completions and translations of the portals that have the GenAI
features. The data owner's explanations turn a request into characters (topic 2,000-3,000 characters, prompt 400-500,
a chatbot reads 3 to 10 topics, an answer is 200-400 characters, a translation writes the topic again) and characters
into tokens (4 per token in English, 3.5 in French, German and Spanish). These are assumptions with ranges, kept in
`config/config_model.yaml` under `analytics:`. Days absent from a series count as zero requests.""",
    ),
    (
        "code",
        """path, data = traitement.read_analytics(path)
result = traitement.analyse_analytics(config, data, source=path.name)
print(f"period {result.start} to {result.end}: {result.days} days")
print("days absent from the file (counted as zero):", dict(result.missing_days))

def ranged(row, name):
    return {name: row[name], name + "_min": row[name + "_min"], name + "_max": row[name + "_max"]}

summary = pd.DataFrame(
    {name: {"requests": row["requests"], **ranged(row, "energy_kwh"), **ranged(row, "carbon_gco2eq")}
     for name, row in [*result.by_profile().items(), ("total", result.total())]}
).T
summary""",
    ),
    (
        "markdown",
        """### Daily carbon per service

One line per service (central values); the grey band is the low-high range of all services together. The weekly
rhythm of a documentation portal shows: weekdays high, weekends low. The axis is logarithmic because the range spans
more than a factor of ten; gaps are days without requests.""",
    ),
    (
        "code",
        """daily = result.daily.assign(carbon_g=result.daily["carbon_gco2eq"].where(result.daily["requests"] > 0))
totals = result.daily_totals()
fig, ax = plt.subplots(figsize=(12, 4.5))
ax.fill_between(totals["date"], totals["carbon_gco2eq_min"], totals["carbon_gco2eq_max"], color="grey", alpha=0.2, label="all services: low-high")
sns.lineplot(data=daily, x="date", y="carbon_g", hue="profile", ax=ax, linewidth=1.2)
ax.plot(totals["date"], totals["carbon_gco2eq"], color="black", linewidth=1, label="all services: central")
ax.set_yscale("log")
ax.set_xlabel("")
ax.set_ylabel("gCO2e per day")
ax.set_title(f"Daily carbon per service ({result.assumptions['hardware']}, {result.assumptions['region']} grid)")
ax.legend(loc="lower left", ncols=5, fontsize="small")
plt.show()""",
    ),
    (
        "markdown",
        """### Monthly totals and shares

Partial months (the first and last of the period) hold fewer days: the `days` column says how many.
Months of fewer than 7 days are left out of the table and the charts (they stay in every total), so
that no single day's count of a real export is printed.""",
    ),
    (
        "code",
        """months = result.monthly_totals()
months = months[months["days"] >= 7]
display(months[["month", "days", "requests", "energy_kwh", "energy_kwh_min", "energy_kwh_max", "carbon_gco2eq", "carbon_gco2eq_min", "carbon_gco2eq_max"]])

full = result.monthly[result.monthly["month"].isin(months["month"])]
shares = full.pivot(index="month", columns="profile", values="carbon_share")
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4))
monthly = full.assign(carbon_kg=lambda f: f["carbon_gco2eq"] / 1000)
sns.barplot(data=monthly, x="month", y="carbon_kg", hue="profile", ax=left)
left.set_ylabel("kgCO2e per month (central)")
left.set_title("Monthly carbon per service")
shares.plot.bar(stacked=True, ax=right, rot=0)
right.set_ylabel("share of the month's carbon")
right.set_title("Monthly shares")
right.legend(loc="lower right", fontsize="small")
plt.show()""",
    ),
    (
        "markdown",
        """### What moves the total: a tornado chart

Each bar moves one uncertain input from its low to its high bound, every other input at its central value. Hardware
inputs (batch size, decode speed, GPU draw), the datacentre's PUE and the size assumptions are compared on the same
axis. The combined range of section 4 moves all of them at once, hence it is wider than any bar.""",
    ),
    (
        "code",
        """tornado = traitement.analytics_sensitivity(config, data)
central = tornado["total_central"].iloc[0] / 1000
fig, ax = plt.subplots(figsize=(9, 5))
ax.barh(tornado["assumption"], (tornado["total_high"] - tornado["total_low"]) / 1000, left=tornado["total_low"] / 1000, color=sns.color_palette()[0])
ax.axvline(central, color="black", linewidth=1)
for y, row in enumerate(tornado.itertuples()):
    ax.text(row.total_low / 1000, y, f"{row.low_value:g} ", ha="right", va="center", fontsize="small")
    ax.text(row.total_high / 1000, y, f" {row.high_value:g}", ha="left", va="center", fontsize="small")
ax.invert_yaxis()
ax.set_xlabel(f"total kgCO2e over the {result.days} days (central {central:,.3g})")
ax.set_title("One input at a time, from its low to its high bound")
low_kg, high_kg = tornado["total_low"].min() / 1000, tornado["total_high"].max() / 1000
ax.set_xlim(low_kg - 0.12 * (high_kg - low_kg), high_kg + 0.08 * (high_kg - low_kg))
plt.show()""",
    ),
    (
        "markdown",
        """### The regions compared

The energy does not depend on the grid; the carbon is that energy times the grid's intensity (Ember 2024). The same
GenAI use emits about 20 times less carbon on the Swedish grid (35.9 gCO2e/kWh) than on the Indian one (709).""",
    ),
    (
        "code",
        """regions = traitement.compare_regions(config, data)
regions = regions.assign(carbon_kg=regions["carbon_gco2eq"] / 1000)
fig, ax = plt.subplots(figsize=(10, 4.5))
sns.barplot(data=regions, x="region", y="carbon_kg", color=sns.color_palette()[2], ax=ax)
ax.vlines(range(len(regions)), regions["carbon_gco2eq_min"] / 1000, regions["carbon_gco2eq_max"] / 1000, color="black", linewidth=1)
ax.set_yscale("log")
ax.set_ylabel(f"kgCO2e over {result.days} days (line: low-high)")
ax.set_title("Same use, different grids")
ax.tick_params(axis="x", rotation=45)
plt.show()
regions[["region", "carbon_intensity_gco2eq_per_kwh", "energy_kwh", "carbon_gco2eq", "carbon_gco2eq_min", "carbon_gco2eq_max"]]""",
    ),
    (
        "markdown",
        """## 5. Per year, and in context

The yearly figure multiplies the period's total by 365 / days, which assumes the period is typical of the year.
Sessions count every portal's visits, while only some portals have the GenAI features (the file's `portals:` section
says how many, or `portals_total` / `portals_genai`): carbon per 1,000 sessions spreads the GenAI footprint over
every portal's sessions. Content series are cumulative stocks, not views; attachments are never
processed by GenAI.""",
    ),
    (
        "code",
        """year = result.per_year()
print(f"per year (x 365 / {result.days} days): {year['requests']:,.0f} requests")
print(f"  energy {year['energy_kwh']:,.3g} kWh (range {year['energy_kwh_min']:,.3g} to {year['energy_kwh_max']:,.3g})")
print(f"  carbon {year['carbon_gco2eq'] / 1000:,.3g} kgCO2e (range {year['carbon_gco2eq_min'] / 1000:,.3g} to {year['carbon_gco2eq_max'] / 1000:,.3g})")
context = result.context
if "carbon_gco2eq_per_1000_sessions" in context:
    print(f"per 1,000 sessions: {context['carbon_gco2eq_per_1000_sessions']:.3g} gCO2e "
          f"(range {context['carbon_gco2eq_per_1000_sessions_min']:.3g} to {context['carbon_gco2eq_per_1000_sessions_max']:.3g}); "
          f"{context['requests_per_1000_sessions']:.3g} GenAI requests per 1,000 sessions")
print(context["note"])""",
    ),
    (
        "markdown",
        """## 6. A provider's usage export and its accounting report

An API's usage export (here OpenAI's organization Usage API, the project's sample written from OpenAI's public
documentation) says how many tokens each model used per day and project, not where or on what it ran. Each row's
model gets the model-aware estimate with the deployment unknown. The report gives the totals a sustainability team
files: energy, **location-based** emissions (the grid average), **market-based** emissions with the contractual factor
you supply (here 0 gCO2e/kWh, as for a provider buying only renewable certificates; an assumption, labelled), the
embodied share apart, and, since the models are bought as a service, the GHG Protocol framing as **scope 3 category 1**
(purchased goods and services).""",
    ),
    (
        "code",
        """report = traitement.account_log(
    Path("data/samples/providers/openai-usage-completions.json"),
    config,
    options=traitement.report_options(market_factor_gco2eq_per_kwh=0),
)
print(report.title)
print("operational:", report.totals.scope_operational)

def figure_row(line):
    row = {"dimension": line.dimension, "key": line.key, "requests": line.requests}
    for name in ("energy_kwh", "carbon_location_based_gco2eq", "carbon_market_based_gco2eq", "carbon_embodied_gco2eq"):
        figure = getattr(line, name)
        row[name] = figure.value if figure else None
        row[name + "_min"] = figure.min if figure else None
        row[name + "_max"] = figure.max if figure else None
    return row

lines = pd.DataFrame([figure_row(report.totals)] + [figure_row(line) for line in report.lines])
display(lines[["dimension", "key", "requests", "energy_kwh", "energy_kwh_min", "energy_kwh_max",
               "carbon_location_based_gco2eq", "carbon_market_based_gco2eq", "carbon_embodied_gco2eq"]])

per_model = lines[lines["dimension"] == "model"]
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.barh(per_model["key"], per_model["carbon_location_based_gco2eq"], color=sns.color_palette()[3])
ax.hlines(range(len(per_model)), per_model["carbon_location_based_gco2eq_min"], per_model["carbon_location_based_gco2eq_max"], color="black", linewidth=1)
ax.set_xscale("log")
ax.set_xlabel("gCO2e, location-based (line: low-high)")
ax.set_title("A usage export: carbon per model")
plt.show()
for item in report.illustrations:
    spread = f"range {item.amount_min:.3g} to {item.amount_max:.3g}"
    print(f"illustration: {item.amount:.3g} {item.result_unit} {item.label} ({spread}; {item.source}, {item.year})")""",
    ),
    (
        "markdown",
        """## What this does not say

- The counts say how many requests ran, not how long they were: the sizes are the data owner's usual values, with
  ranges. The tornado chart shows which of them matter most.
- Hardware, batch size and datacentre are not known for the portal's service: the defaults are a 70B-class model
  on 4 x H100 in an industry-average datacentre, on the US grid; the CLI and API take `--hardware`, `--region`,
  `--datacenter` and overrides.
- Carbon is scope 2, location-based. The hardware's manufacturing share (scope 3) is reported apart as
  `carbon_embodied_gco2eq`.""",
    ),
]


def build() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    for kind, source in CELLS:
        notebook.cells.append(nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source))
    return notebook


def execute(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run every cell with the python3 kernel, from the project root."""
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(PROJECT_DIR)}})
    client.execute()
    return notebook


if __name__ == "__main__":
    notebook = build()
    if "--no-run" not in sys.argv:
        execute(notebook)
    nbformat.write(notebook, NOTEBOOK)
    print(NOTEBOOK)
