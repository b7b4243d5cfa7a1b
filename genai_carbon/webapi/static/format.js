// Shared by the calculator page (app.js) and the method page (method.js): the API client,
// numbers with grouped digits and scaled units, CSV and downloads, and small DOM helpers.
// No arithmetic of the footprint happens here: only the choice of a display unit.
"use strict";

export const $ = (id) => document.getElementById(id);

/** True for a finite number (a figure the page may show). */
export const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

// --- the API --------------------------------------------------------------------------------

/** GET or POST `path`; an error answer throws an Error carrying the API's one-line `detail`, `status` and `code`. */
export async function api(path, options = {}) {
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch (parseError) {
    data = { detail: `${path}: answered ${response.status} without JSON` };
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : `${path}: error ${response.status}`;
    const error = new Error(detail);
    error.status = response.status;
    error.code = (data && data.code) || "";
    throw error;
  }
  return data;
}

export const postJSON = (path, body) =>
  api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The OpenAPI document, or an empty one: pages show what the server offers. */
export async function openapiOf() {
  try {
    return await api("/openapi.json");
  } catch (error) {
    return { paths: {}, components: { schemas: {} } };
  }
}

export const hasRoute = (openapi, path, verb = "get") => Boolean(openapi.paths && openapi.paths[path] && openapi.paths[path][verb]);

// --- numbers and units ----------------------------------------------------------------------

/** A number with at most `digits` significant digits and grouped thousands: 1,234 or 0.06593 or 1.2e-7. */
export function number(value, digits = 4) {
  if (!isNumber(value)) return "";
  const abs = Math.abs(value);
  if (abs !== 0 && abs < 1e-6) return value.toExponential(digits - 1);
  return value.toLocaleString("en-US", { maximumSignificantDigits: digits });
}

/** A whole count with grouped digits (2,000). */
export const count = (value) => (isNumber(value) ? Math.round(value).toLocaleString("en-US") : "");

// Display ladders: [unit shown, how many of the API's unit it holds]. The API's units: kWh, gCO2e, L, s.
const LADDERS = {
  energy_kwh: [["Wh", 1e-3], ["kWh", 1], ["MWh", 1e3], ["GWh", 1e6], ["TWh", 1e9]],
  carbon_gco2eq: [["gCO2e", 1], ["kgCO2e", 1e3], ["tCO2e", 1e6], ["ktCO2e", 1e9], ["MtCO2e", 1e12]],
  water_l: [["mL", 1e-3], ["L", 1], ["m3", 1e3], ["thousand m3", 1e6], ["million m3", 1e9]],
  duration_s: [["s", 1], ["min", 60], ["h", 3600], ["days", 86400], ["years", 31557600]],
  distance_km: [["cm", 1e-5], ["m", 1e-3], ["km", 1]],
};
LADDERS.carbon_embodied_gco2eq = LADDERS.carbon_gco2eq;

/** The kind of quantity an API key holds: energy_kwh_min -> energy_kwh. */
export function kindOf(key) {
  const base = key.replace(/_(min|max)$/, "");
  if (base in LADDERS) return base;
  if (/_kwh$/.test(base)) return "energy_kwh";
  if (/_gco2eq$/.test(base)) return "carbon_gco2eq";
  if (/_l$/.test(base)) return "water_l";
  if (/_s$/.test(base)) return "duration_s";
  return null;
}

/** The display unit for `value` (in the API's unit of `kind`): the largest step not above it. */
export function unitFor(kind, value) {
  const ladder = LADDERS[kind];
  const abs = Math.abs(isNumber(value) ? value : 0);
  let chosen = ladder[0];
  for (const step of ladder) if (abs >= step[1]) chosen = step;
  if (abs === 0) chosen = ladder.find((step) => step[1] === 1) || ladder[0];
  return { unit: chosen[0], factor: chosen[1] };
}

/** `value` (in the API's unit of `kind`) as "65.93 kWh"; `unit` forces a display unit from unitFor. */
export function quantity(kind, value, unit = null) {
  if (!isNumber(value)) return "";
  const chosen = unit || unitFor(kind, value);
  return `${number(value / chosen.factor)} ${chosen.unit}`;
}

/** An equivalence's amount in words: distances and times scaled, counts below one as a share. */
export function everyday(amount, resultUnit) {
  if (!isNumber(amount)) return "";
  if (resultUnit === "km") return quantity("distance_km", amount);
  if (resultUnit === "hours") return quantity("duration_s", amount * 3600);
  if (amount < 1) return `${number(amount * 100, 3)} % of one ${resultUnit.replace(/s$/, "")}`;
  return `${number(amount, 3)} ${resultUnit}`;
}

/** Digits as typed ("2,000", "2 000", "1e6") to a JSON number; anything else unchanged, for the server to name. */
export function typedNumber(raw) {
  const text = raw.trim();
  const grouped = /^-?\d{1,3}([,\u00a0\u202f ]\d{3})+(\.\d+)?$/.test(text) ? text.replace(/[,\u00a0\u202f ]/g, "") : text;
  return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(grouped) ? Number(grouped) : text;
}

// --- CSV and downloads ------------------------------------------------------------------------

function csvCell(value) {
  const text = value === null || value === undefined ? "" : Array.isArray(value) ? value.join("; ") : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of objects as CSV text: one column per key met, in the order met. */
export function toCSV(rows) {
  const columns = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return [columns.join(","), ...rows.map((row) => columns.map((key) => csvCell(row[key])).join(","))].join("\n") + "\n";
}

/** A nested object as key,value rows with dotted keys (per_request.energy_kwh), for a one-row answer. */
export function flatten(data, prefix = "", rows = []) {
  for (const [key, value] of Object.entries(data || {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, name, rows);
    else rows.push({ key: name, value: Array.isArray(value) ? value.map((v) => (typeof v === "object" ? JSON.stringify(v) : v)).join("; ") : value });
  }
  return rows;
}

/** Point a download link at `text` (a Blob URL), with its file name. */
export function offerDownload(link, text, type, filename) {
  if (link.href && link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = filename;
  link.hidden = false;
}

// --- DOM ------------------------------------------------------------------------------------

/** An element with text or children: el("td", {className: "num"}, "12"). */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child !== null && child !== undefined && child !== "") node.append(child);
  return node;
}

/** A table in a scroll box (its rows stack on a narrow screen): `head` is a list of column titles, `rows` a list of lists of cells (text or nodes). */
export function table(head, rows, caption = "") {
  const thead = el("thead", {}, el("tr", {}, ...head.map((title) => el("th", { scope: "col" }, title))));
  const cellOf = (cell, i) => {
    if (i === 0) return el("th", { scope: "row" }, cell);
    const td = el("td", {}, cell);
    td.dataset.label = head[i]; // shown before the value when rows stack on a narrow screen
    return td;
  };
  const tbody = el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map(cellOf))));
  const node = el("table", { className: "data" }, caption ? el("caption", {}, caption) : "", thead, tbody);
  return el("div", { className: "table-wrap", tabIndex: 0, role: "region", ariaLabel: caption || head.join(", ") }, node);
}

/** Names from a listing answer: {"regions": {name: ...}}, {"models": [...]}, or a list. */
export function entriesOf(data, key) {
  const inner = data && !Array.isArray(data) && typeof data === "object" && key in data ? data[key] : data;
  if (Array.isArray(inner)) {
    return inner
      .map((item) => (typeof item === "string" ? [item, {}] : [item && (item.name || item.id), item || {}]))
      .filter(([name]) => Boolean(name));
  }
  return inner && typeof inner === "object" ? Object.entries(inner) : [];
}

/** The central value of a config number: 70.6 or {value: 70.6, min, max}. */
export const central = (value) => (value && typeof value === "object" ? value.value : value);

// --- colours (light and dark) ---------------------------------------------------------------

export function colours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return {
    ink: read("--ink"), muted: read("--muted"), grid: read("--grid"), accent: read("--accent"),
    highlight: read("--highlight"), band: read("--band"), whisker: read("--whisker"),
  };
}

/** Chart.js defaults from the page's colours (called before each draw: the colour scheme may change). */
export function chartTheme() {
  const c = colours();
  Chart.defaults.color = c.muted;
  Chart.defaults.borderColor = c.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  return c;
}

/** A Chart.js plugin: each dataset with `whiskers: [[low, high], ...]` gets a whisker (error bar) per bar. */
export const whiskerPlugin = {
  id: "whiskers",
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    chart.data.datasets.forEach((dataset, index) => {
      if (!dataset.whiskers || !chart.isDatasetVisible(index)) return;
      const meta = chart.getDatasetMeta(index);
      const horizontal = chart.options.indexAxis === "y";
      const valueScale = chart.scales[horizontal ? meta.xAxisID : meta.yAxisID];
      ctx.save();
      ctx.strokeStyle = dataset.whiskerColor || "#000";
      ctx.lineWidth = 1.5;
      meta.data.forEach((bar, i) => {
        const range = dataset.whiskers[i];
        if (!range || !isNumber(range[0]) || !isNumber(range[1])) return;
        const low = valueScale.getPixelForValue(Math.max(range[0], valueScale.min > 0 ? valueScale.min : range[0]));
        const high = valueScale.getPixelForValue(range[1]);
        const centre = horizontal ? bar.y : bar.x;
        const cap = Math.min(6, ((horizontal ? bar.height : bar.width) || 12) / 3);
        ctx.beginPath();
        if (horizontal) {
          ctx.moveTo(low, centre); ctx.lineTo(high, centre);
          ctx.moveTo(low, centre - cap); ctx.lineTo(low, centre + cap);
          ctx.moveTo(high, centre - cap); ctx.lineTo(high, centre + cap);
        } else {
          ctx.moveTo(centre, low); ctx.lineTo(centre, high);
          ctx.moveTo(centre - cap, low); ctx.lineTo(centre + cap, low);
          ctx.moveTo(centre - cap, high); ctx.lineTo(centre + cap, high);
        }
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};
