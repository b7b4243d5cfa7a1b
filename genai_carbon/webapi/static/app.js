// The web page of the GenAI carbon calculator: plain JavaScript calling the JSON API.
// Validation is the server's: a 422 answer's `detail` starts with the field name
// ("input_tokens: ..."), and is shown next to that field. Optional endpoints
// (/models, /analytics, /batch) are detected from /openapi.json: a panel whose
// endpoint is absent stays hidden.
"use strict";

const QUANTITIES = {
  // key in the API answer: [element prefix, unit shown, factor from the API's unit]
  energy_kwh: ["energy", "Wh", 1000],
  carbon_gco2eq: ["carbon", "gCO2e", 1],
  water_l: ["water", "mL", 1000],
};
const FORM_FIELDS = ["region", "datacenter", "hardware", "model", "profile", "input_tokens", "output_tokens", "count"];
const NUMBER_FIELDS = new Set(["input_tokens", "output_tokens", "count"]);
const charts = {};
let openapi = { paths: {}, components: { schemas: {} } };

const $ = (id) => document.getElementById(id);

/** A number with 4 significant digits, e.g. 0.3142 or 1,234 or 1.235e-7. */
function fmt(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return value.toExponential(3);
  return Number(value.toPrecision(4)).toLocaleString("en-US", { maximumSignificantDigits: 4 });
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = { detail: `${path}: answered ${response.status} without JSON` }; }
  if (!response.ok) {
    const error = new Error(typeof data.detail === "string" ? data.detail : `${path}: error ${response.status}`);
    error.status = response.status; error.code = data.code || ""; throw error;
  }
  return data;
}

const postJSON = (path, body) => api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

function fillSelect(select, names, defaultLabel) {
  select.replaceChildren(new Option(defaultLabel, ""), ...names.map((name) => new Option(name, name)));
}

/** Names from a listing answer: {"regions": {name: ...}}, {"models": [...]}, or a list. */
function namesOf(data, key) {
  const inner = data && !Array.isArray(data) && key in data ? data[key] : data;
  if (Array.isArray(inner)) return inner.map((item) => (typeof item === "string" ? item : item.name || item.id)).filter(Boolean);
  return inner && typeof inner === "object" ? Object.keys(inner) : [];
}

// --- errors next to their field -----------------------------------------------------------

function clearErrors() {
  document.querySelectorAll("#estimate-form .error").forEach((el) => { el.textContent = ""; });
  document.querySelectorAll("#estimate-form [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** The form field an API error is about: the detail's leading name, or the kind of an unknown name. */
function fieldOf(error) {
  const lead = error.message.split(":", 1)[0].trim().split(".")[0];
  if (FORM_FIELDS.includes(lead)) return lead;
  const kind = (error.code || "").replace(/^unknown-/, "");
  return FORM_FIELDS.includes(kind) ? kind : null;
}

function showError(error) {
  const field = fieldOf(error);
  const target = field && $(`error-${field}`);
  if (target) {
    target.textContent = error.message;
    $(field).setAttribute("aria-invalid", "true");
  } else {
    $("error-form").textContent = error.message;
  }
}

// --- one estimate -----------------------------------------------------------------------------

function formBody(overrides = {}) {
  const body = {};
  for (const name of FORM_FIELDS) {
    const input = $(name);
    if (!input || input.closest("[hidden]")) continue;
    const raw = input.value.trim();
    if (raw === "") continue;
    // Numbers go as JSON numbers when they look like one; anything else goes as typed, for the server to name.
    body[name] = NUMBER_FIELDS.has(name) && /^-?\d+(\.\d+)?(e\d+)?$/i.test(raw) ? Number(raw) : raw;
  }
  return Object.assign(body, overrides);
}

function showEstimate(result) {
  const per = result.count === 1 ? "one request" : `${result.count.toLocaleString("en-US")} requests`;
  $("result-title").textContent = `${per}: ${result.input_tokens.toLocaleString("en-US")} tokens in, `
    + `${result.output_tokens.toLocaleString("en-US")} out, region ${result.region}, method ${result.method}`;
  for (const [key, [prefix, , factor]] of Object.entries(QUANTITIES)) {
    for (const [suffix, field] of [["value", key], ["min", `${key}_min`], ["max", `${key}_max`]]) {
      const el = $(`${prefix}-${suffix}`);
      el.dataset.value = String(result[field]); // exact value, in the API's unit
      el.textContent = fmt(result[field] * factor);
    }
    $(`${prefix}-covers`).textContent = result.covers[key] || "";
  }
  const a = result.assumptions;
  $("result-assumptions").textContent = `Hardware ${a.hardware || "custom"}: ${a.n_gpu} GPU x ${a.gpu_power_w} W at ${Math.round(a.gpu_utilisation * 100)}% draw, `
    + `batch ${a.batch_size}; grid ${a.carbon_intensity_gco2eq_per_kwh} gCO2e/kWh, datacentre ${a.datacenter} (PUE ${a.pue}). `
    + `Embodied (scope 3, not in carbon): ${fmt(result.carbon_embodied_gco2eq)} gCO2e.`;
  $("result-warnings").replaceChildren(...result.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  $("result").hidden = false;
}

async function onEstimate(event) {
  event.preventDefault();
  clearErrors();
  try {
    showEstimate(await postJSON("/calculate", formBody()));
  } catch (error) {
    $("result").hidden = true;
    showError(error);
  }
}

// --- comparison chart ------------------------------------------------------------------------

function draw(canvasId, config) {
  if (charts[canvasId]) charts[canvasId].destroy();
  charts[canvasId] = new Chart($(canvasId), config);
}

async function onCompare() {
  $("error-compare").textContent = "";
  clearErrors();
  const by = $("compare-by").value;
  const key = $("compare-quantity").value;
  const [, unit, factor] = QUANTITIES[key];
  const names = [...$(by).options].map((o) => o.value).filter(Boolean);
  try {
    const results = await Promise.all(names.map((name) => postJSON("/calculate", formBody({ [by]: name }))));
    draw("compare-chart", {
      type: "bar",
      data: {
        labels: names,
        datasets: [
          { label: `${key.split("_")[0]} (${unit})`, data: results.map((r) => r[key] * factor), backgroundColor: "#1f6f5c", order: 1 },
          { label: "range (low to high)", data: results.map((r) => [r[`${key}_min`] * factor, r[`${key}_max`] * factor]),
            backgroundColor: "rgba(31,111,92,0.22)", grouped: false, order: 2 },
        ],
      },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, title: { display: true, text: unit } } } },
    });
  } catch (error) {
    $("error-compare").textContent = error.message;
    showError(error);
  }
}

// --- upload panels (shown only when their endpoint exists) -----------------------------------

function resolve(schema) {
  const ref = schema && schema.$ref;
  return ref ? openapi.components.schemas[ref.split("/").pop()] || {} : schema || {};
}

/** How an endpoint takes a file: multipart with its binary field's name, or the raw body. */
function uploadRequest(path, file) {
  const content = ((openapi.paths[path].post || {}).requestBody || {}).content || {};
  if (content["multipart/form-data"]) {
    const props = resolve(content["multipart/form-data"].schema).properties || {};
    const field = Object.keys(props).find((k) => props[k].format === "binary" || props[k].contentMediaType) || "file";
    const form = new FormData();
    form.append(field, file);
    return { method: "POST", body: form };
  }
  const type = Object.keys(content)[0] || file.type || "application/octet-stream";
  return { method: "POST", headers: { "content-type": type }, body: file };
}

/** The daily series in an answer: an array of {date|day, ...numbers}, or columns {date: [...], x: [...]}. */
function findDaily(data, depth = 0) {
  if (!data || typeof data !== "object" || depth > 4) return null;
  if (Array.isArray(data)) {
    const first = data[0];
    if (first && typeof first === "object" && ("date" in first || "day" in first)) {
      // Rows may repeat a date (one per profile or group): sum their numbers per date.
      const dateKey = "date" in first ? "date" : "day";
      const keys = Object.keys(first).filter((k) => typeof first[k] === "number");
      const byDate = new Map();
      for (const row of data) {
        const sums = byDate.get(row[dateKey]) || Object.fromEntries(keys.map((k) => [k, 0]));
        for (const k of keys) sums[k] += row[k];
        byDate.set(row[dateKey], sums);
      }
      const dates = [...byDate.keys()];
      const columns = Object.fromEntries(keys.map((k) => [k, dates.map((d) => byDate.get(d)[k])]));
      return { dates, columns };
    }
    return null;
  }
  for (const dateKey of ["date", "day"]) {
    if (Array.isArray(data[dateKey])) {
      const columns = {};
      for (const [k, v] of Object.entries(data)) if (Array.isArray(v) && typeof v[0] === "number") columns[k] = v;
      return { dates: data[dateKey], columns };
    }
  }
  for (const value of Object.values(data)) {
    const found = findDaily(value, depth + 1);
    if (found) return found;
  }
  return null;
}

function totalsText(data) {
  const totals = data.totals || data.total; // a request log's "totals", an analytics file's "total"
  const source = totals && typeof totals === "object" ? totals : data;
  return Object.entries(source).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
}

function setupUpload(name) {
  const panel = $(`${name}-panel`);
  const path = panel.dataset.path;
  if (!(openapi.paths[path] && openapi.paths[path].post)) return; // endpoint absent: the panel stays hidden
  panel.hidden = false;
  $(`${name}-button`).addEventListener("click", async () => {
    const errorEl = $(`error-${name}`);
    errorEl.textContent = "";
    const file = $(`${name}-file`).files[0];
    if (!file) { errorEl.textContent = "file: choose a file first"; return; }
    try {
      // A log estimate sums per group: ask for one group per day where the endpoint can.
      const params = (openapi.paths[path].post.parameters || []).map((p) => p.name);
      const query = params.includes("group_by") ? "?group_by=day" : "";
      const data = await api(path + query, uploadRequest(path, file));
      $(`${name}-totals`).textContent = totalsText(data);
      const daily = findDaily(data);
      if (!daily) { errorEl.textContent = "the answer holds no daily series to draw"; return; }
      const key = ["carbon_gco2eq", "energy_kwh", "water_l"].find((k) => k in daily.columns) || Object.keys(daily.columns)[0];
      const datasets = [{ label: key, data: daily.columns[key], backgroundColor: "#1f6f5c" }];
      if (`${key}_min` in daily.columns && `${key}_max` in daily.columns) {
        datasets.push({ label: "range (low to high)", data: daily.columns[`${key}_min`].map((lo, i) => [lo, daily.columns[`${key}_max`][i]]),
          backgroundColor: "rgba(31,111,92,0.22)", grouped: false });
      }
      draw(`${name}-chart`, { type: "bar", data: { labels: daily.dates, datasets },
        options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, title: { display: true, text: key } } } } });
    } catch (error) {
      errorEl.textContent = error.message;
    }
  });
}

// --- start -------------------------------------------------------------------------------------

async function start() {
  $("estimate-form").addEventListener("submit", onEstimate);
  $("compare-button").addEventListener("click", onCompare);
  try {
    openapi = await api("/openapi.json");
    const [regions, hardware, profiles] = await Promise.all([api("/regions"), api("/hardware"), api("/profiles")]);
    fillSelect($("region"), namesOf(regions, "regions"), "default region");
    fillSelect($("datacenter"), namesOf(regions, "datacenters"), "default datacentre");
    fillSelect($("hardware"), namesOf(hardware, "hardware"), "default hardware");
    fillSelect($("profile"), namesOf(profiles, "profiles"), "default profile");
    const named = resolve((((openapi.paths["/calculate"] || {}).post || {}).requestBody || { content: {} }).content["application/json"]?.schema);
    if (openapi.paths["/models"] && named.properties && named.properties.model) {
      fillSelect($("model"), namesOf(await api("/models"), "models"), "no model (use the hardware)");
      $("model-field").hidden = false;
    }
    ["analytics", "batch"].forEach(setupUpload);
    document.body.dataset.ready = "true";
  } catch (error) {
    $("error-form").textContent = `could not load the lists: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", start);
