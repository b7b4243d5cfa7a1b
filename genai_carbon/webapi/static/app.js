// The calculator page: plain JavaScript (an ES module, no build step) calling the JSON API.
//
// Validation is the server's: a 422 answer's `detail` starts with the field name
// ("input_tokens: ..."), shown next to that field; the page then asks again without
// that field, so every invalid field is reported at once. What the server offers
// (methods, optional routes such as /models, /analytics, /batch, /equivalences) is
// read from /openapi.json: a part whose route is absent stays hidden. The form's
// values live in the URL query (?region=france&input_tokens=2000), restored on load.
import {
  $, api, chartTheme, count, el, entriesOf, everyday, flatten, hasRoute, isNumber, kindOf, number, offerDownload,
  openapiOf, postJSON, quantity, table, toCSV, typedNumber, unitFor, whiskerPlugin, central,
} from "/static/format.js";

const FIELDS = ["method", "model", "mix", "region", "datacenter", "hardware", "profile", "input_tokens", "output_tokens", "count", "cached_input_tokens", "reasoning_tokens"];
const NUMBER_FIELDS = new Set(["input_tokens", "output_tokens", "count", "cached_input_tokens", "reasoning_tokens"]);
const ADVANCED_FIELDS = new Set(["cached_input_tokens", "reasoning_tokens"]);
const FIGURES = [ // row prefix in the page, key in the API's answer
  ["energy", "energy_kwh"],
  ["carbon", "carbon_gco2eq"],
  ["water", "water_l"],
  ["embodied", "carbon_embodied_gco2eq"],
];
const QUANTITY_NAMES = { energy_kwh: "energy", carbon_gco2eq: "carbon", water_l: "water", carbon_embodied_gco2eq: "embodied carbon" };
const METHOD_LABELS = { // option text, and the help under the select
  hardware: ["hardware (power x time)", "a serving setup's power over the request's time; with a model, model-aware on that setup"],
  "model-aware": ["model-aware (hardware unknown)", "the model's physics over the deployments such models are served with: a range"],
  parameter: ["parameter (model size only)", "from the model's size alone, for models behind an API (seed 003)"],
  "seed-quadratic": ["seed-quadratic (legacy)", "the seed's formula, wrong physics: only to reproduce its numbers"],
};
const MAX_COMPARED = 40;

const state = {
  openapi: { paths: {}, components: { schemas: {} } },
  defaults: { method: "hardware", mix: "implied", count: "1" },
  lists: { region: new Map(), datacenter: new Map(), hardware: new Map(), model: new Map(), profile: new Map() },
  methods: {}, // GET /methods: each method's description, where the server has the route
  methodChosen: false, // the user (or the link) chose the method: picking a model no longer switches it
  comparedRegions: [], // GET /regions' compared_regions: what a comparison by region shows by default
  charts: {},
  redraw: {},
};

// --- the form -------------------------------------------------------------------------------

let pending = 0;
/** Run `task`, marking the page busy meanwhile (body[data-busy]: tests and assistive tools can wait on it). */
async function busy(task) {
  pending += 1;
  document.body.dataset.busy = "true";
  document.body.setAttribute("aria-busy", "true");
  try {
    return await task();
  } finally {
    pending -= 1;
    if (pending === 0) {
      document.body.dataset.busy = "false";
      document.body.removeAttribute("aria-busy");
    }
  }
}

/** Estimate, then redraw the comparison (its bars use the form's other values) when one is shown or can be drawn. */
async function estimateAndCompare() {
  const ok = await runEstimate();
  if (ok && !comparedNames($("compare-by").value).error) await runCompare();
  return ok;
}

const methodOf = () => $("method").value || "hardware";
const hasOption = (select, value) => [...select.options].some((option) => option.value === value);

/**
 * Picking a model gives the model-aware method (the deployment unknown: ranges), and clearing it the hardware method,
 * unless the user or the link chose the method.
 */
function syncMethod() {
  if (state.methodChosen) return;
  const wanted = $("model").value.trim() ? "model-aware" : "hardware";
  if (hasOption($("method"), wanted)) $("method").value = wanted;
}

/** Whether a field takes part in an estimate by `method` (the parameter method knows only the model and tokens). */
function applies(field, method, mix, model = $("model").value.trim()) {
  if (field === "mix") return method === "parameter";
  if (field === "region") return method !== "parameter" || mix === "grid";
  if (field === "datacenter") return method !== "parameter";
  if (field === "hardware") return method !== "parameter" && method !== "model-aware"; // model-aware alone: the hardware is unknown
  if (field === "cached_input_tokens") return method === "model-aware" || (method === "hardware" && model !== ""); // read from the KV cache: needs a model
  return true;
}

function updateFields() {
  syncMethod();
  const method = methodOf();
  const mix = $("mix").value;
  for (const box of document.querySelectorAll("#estimate-form .field")) box.hidden = !applies(box.dataset.field, method, mix);
  const modelName = $("model").value.trim();
  $("help-method").textContent = (state.methods[method] || {}).description || (METHOD_LABELS[method] || [])[1] || "";
  $("help-model").textContent = {
    parameter: "required: its size gives the energy",
    "model-aware": "required: its hardware is unknown, so the boards, GPUs, precision and batch it is served with are ranges",
  }[method] || "optional: with a model, the preset's GPUs and batch are sized for it (model-aware)";
  $("model").placeholder = method === "hardware" || method === "seed-quadratic" ? "none: the preset's own model" : "a model, e.g. llama-3.1-70b";
  $("help-cached_input_tokens").textContent = "part of the input tokens: read from the KV cache, not recomputed";
  $("help-reasoning_tokens").textContent = method === "parameter" ? "part of the output tokens: their share of the energy is reported" : "part of the output tokens: charged as output, their share reported";
  const setup = state.lists.hardware.get($("hardware").value.trim());
  $("help-hardware").textContent = setup && setup.description
    ? (modelName ? `${setup.gpu || $("hardware").value} boards, sized for the model` : setup.description)
    : "";
  const profile = state.lists.profile.get($("profile").value);
  const tokens = (key) => (profile ? central(profile[key]) : null);
  $("help-profile").textContent = profile ? [profile.description, isNumber(tokens("input_tokens")) ? `${count(tokens("input_tokens"))} tokens in, ${count(tokens("output_tokens"))} out` : ""].filter(Boolean).join("; ") : "";
  $("input_tokens").placeholder = isNumber(tokens("input_tokens")) ? `${count(tokens("input_tokens"))} (from the profile)` : "from the profile";
  $("output_tokens").placeholder = isNumber(tokens("output_tokens")) ? `${count(tokens("output_tokens"))} (from the profile)` : "from the profile";
}

/** The request body: the fields that apply and are filled; "2,000" is sent as 2000. */
function formBody(overrides = {}) {
  syncMethod();
  const method = overrides.method || methodOf();
  const mix = overrides.mix || $("mix").value;
  const body = {};
  for (const name of FIELDS) {
    if (!applies(name, method, mix)) continue;
    const raw = $(name).value.trim();
    if (raw === "") continue;
    body[name] = NUMBER_FIELDS.has(name) ? typedNumber(raw) : raw;
  }
  return Object.assign(body, overrides);
}

/** Set a field's value; a select gets an option for a value it lacks (the server then names the problem). */
function setValue(name, value) {
  const input = $(name);
  if (input.tagName === "SELECT" && value !== "" && ![...input.options].some((option) => option.value === value)) {
    input.append(new Option(value, value));
  }
  input.value = value;
}

function clearErrors() {
  document.querySelectorAll("#estimate-form .error").forEach((node) => { node.textContent = ""; });
  document.querySelectorAll("#estimate-form [aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/** The form field an API error is about: the detail's leading name, or the kind of an unknown name. */
function fieldOf(error) {
  const lead = error.message.split(":", 1)[0].trim().split(".")[0];
  if (FIELDS.includes(lead)) return lead;
  const kind = (error.code || "").replace(/^unknown-/, "");
  return FIELDS.includes(kind) ? kind : null;
}

function showFieldError(field, message) {
  $(`error-${field}`).textContent = message;
  $(field).setAttribute("aria-invalid", "true");
  if (ADVANCED_FIELDS.has(field)) $("advanced-tokens").open = true; // an error is never hidden in a closed box
}

/**
 * POST /calculate; on a field's error, note it and ask again without that field, so that every
 * invalid field is found in one go. Returns {result} or {errors: {field: message}, formError}.
 */
async function estimateAll(body) {
  const errors = {};
  const attempt = { ...body };
  for (let tries = 0; tries <= FIELDS.length; tries += 1) {
    try {
      const result = await postJSON("/calculate", attempt);
      return Object.keys(errors).length ? { errors } : { result };
    } catch (error) {
      const field = fieldOf(error);
      if (!field || errors[field]) return { errors, formError: error.message };
      errors[field] = error.message;
      if (!(field in attempt) || field === "method") return { errors };
      delete attempt[field];
    }
  }
  return { errors };
}

// --- the URL holds the form --------------------------------------------------------------------

const COMPARE_DEFAULTS = { compare: "region", quantity: "carbon_gco2eq" };

function writeURL(body = formBody()) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (String(value) !== String(state.defaults[name] ?? "")) params.set(name, String(value));
  }
  const compare = { compare: $("compare-by").value, quantity: $("compare-quantity").value };
  for (const [name, value] of Object.entries(compare)) if (value && value !== COMPARE_DEFAULTS[name]) params.set(name, value);
  const query = params.toString();
  history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
}

function readURL() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) if (params.has(name)) setValue(name, params.get(name).trim());
  if (params.has("method")) state.methodChosen = true;
  if (FIELDS.some((name) => ADVANCED_FIELDS.has(name) && params.has(name))) $("advanced-tokens").open = true;
  if (params.has("compare") && [...$("compare-by").options].some((option) => option.value === params.get("compare"))) $("compare-by").value = params.get("compare");
  if (params.has("quantity") && [...$("compare-quantity").options].some((option) => option.value === params.get("quantity"))) $("compare-quantity").value = params.get("quantity");
}

// --- one estimate ------------------------------------------------------------------------------

/** What a figure covers, in plain words, by method; else the API's own words. */
function plainCovers(result, key) {
  if (result.method === "parameter") {
    const words = {
      energy_kwh: "Electricity of one GPU writing the answer, from the model's size (EcoLogits' regression): no server, no datacentre overhead, and the prompt is not counted.",
      carbon_gco2eq: result.mix === "grid"
        ? "Emissions of producing that electricity on the region's grid (scope 2). Manufacturing is not included."
        : "Life-cycle emissions (scope 3) calibrated on Mistral AI's published figure: manufacturing and datacentre overheads included, so not comparable to a grid figure.",
    };
    return words[key] || (result.covers || {})[key] || "";
  }
  if (!["hardware", "seed-quadratic", "model-aware"].includes(result.method)) return (result.covers || {})[key] || "";
  const words = {
    energy_kwh: "Electricity drawn by the servers (GPUs and host CPUs) while serving the requests, plus the datacentre's overhead for cooling and power conversion (PUE).",
    carbon_gco2eq: "Emissions of producing that electricity on the region's grid (location-based, scope 2). Manufacturing the hardware is not included: see embodied carbon.",
    water_l: "Water evaporated to cool the datacentre, plus water used to generate its electricity.",
    carbon_embodied_gco2eq: "A share of the emissions of manufacturing the GPUs and the server, for the time the requests use them (scope 3). Not included in carbon.",
  };
  const modelAware = (result.assumptions || {}).energy_model === "model-aware" || result.method === "model-aware";
  if (modelAware && key === "energy_kwh" && /idle reserve/.test((result.covers || {}).energy_it_kwh || "")) {
    words.energy_kwh = "Electricity of the GPUs serving the requests, of their host (CPUs, memory) and of the machines held idle in reserve, plus the datacentre's overhead for cooling and power conversion (PUE).";
  }
  const legacy = result.method === "seed-quadratic" && key === "energy_kwh"
    ? "The seed's legacy formula, in which time grows with the square of the prompt (wrong physics, for reproduction only). " : "";
  return legacy + (words[key] || (result.covers || {})[key] || "");
}

/** A sentence from parts, leaving out any part whose values are missing. */
function sentence(...parts) {
  return parts.filter((part) => typeof part === "string" && part !== "").join("; ");
}

/** `text` when every value is present (a finite number or a non-empty string), else "". */
function when(values, text) {
  return values.every((value) => isNumber(value) || (typeof value === "string" && value !== "")) ? text() : "";
}

const percent = (fraction) => `${Math.round(fraction * 100)} %`;

/** The deployment assumed, in plain words: the central one, then what the range spans. */
function deploymentText(result) {
  const a = result.assumptions || {};
  const d = result.deployment || {};
  const batch = d.batch_size || {};
  const gpus = typeof d.gpu_count === "number" ? `${d.gpu_count} GPUs` : "from the fewest GPUs that hold the weights up to 8";
  const given = (d.known || []).length ? ` (given: ${d.known.join(", ").replace(/_/g, " ")})` : "";
  return sentence(
    when([a.model], () => `Model ${a.model}`) + when([a.active_params_b, a.total_params_b], () => ` (${number(a.active_params_b)} B active of ${number(a.total_params_b)} B)`),
    when([d.central], () => `hardware not given${given}: the central figure assumes ${d.central}`),
    when([a.decode_tokens_per_s, a.gpu_utilisation], () => `answer written at ${number(a.decode_tokens_per_s)} tokens/s, GPUs at ${percent(a.gpu_utilisation)} draw`),
    when([batch.min, batch.max, d.residual_factor], () => `the range spans ${(d.boards || []).join(", ")} boards, ${gpus}, ${(d.precisions || []).join(" or ")}, ${number(batch.min)} to ${number(batch.max)} requests at once, and the fit's residual (× or ÷ ${number(d.residual_factor)})`),
    when([a.region, a.carbon_intensity_gco2eq_per_kwh], () => `grid ${a.region}: ${number(a.carbon_intensity_gco2eq_per_kwh)} gCO2e/kWh`),
    when([a.datacenter, a.pue], () => `datacentre ${a.datacenter}: PUE ${number(a.pue)}`),
  ) + ".";
}

/** The reasoning tokens' share and the parameter method beside, when the answer has them. */
function extraText(result) {
  const parts = [];
  if (isNumber(result.reasoning_tokens) && result.reasoning_tokens > 0 && isNumber(result.reasoning_energy_share)) {
    parts.push(`Reasoning: ${count(result.reasoning_tokens)} of the ${count(result.output_tokens)} output tokens, ${percent(result.reasoning_energy_share)} of the energy (${quantity("energy_kwh", result.reasoning_energy_kwh)}).`);
  }
  if (isNumber(result.cached_input_tokens) && result.cached_input_tokens > 0) {
    parts.push(`${count(result.cached_input_tokens)} of the ${count(result.input_tokens)} input tokens read from the KV cache.`);
  }
  const p = result.parameter_method;
  if (p && isNumber(p.energy_kwh) && isNumber(p.carbon_gco2eq)) {
    parts.push(`For comparison, the parameter method (seed 003, one GPU per output token, no batching): ${quantity("energy_kwh", p.energy_kwh)} and ${quantity("carbon_gco2eq", p.carbon_gco2eq)} (scope 3, life cycle), about 25 times the published measurements.`);
  }
  return parts.join(" ");
}

function assumptionsText(result) {
  const a = result.assumptions || {};
  const extra = extraText(result);
  if (result.deployment) return [deploymentText(result), extra].filter(Boolean).join(" ");
  if (result.method === "parameter") {
    const model = state.lists.model.get(a.model) || {};
    const perToken = model.energy_wh_per_output_token;
    const carbon = result.mix === "grid"
      ? when([result.region, a.carbon_intensity_gco2eq_per_kwh], () => `carbon: grid ${result.region}, ${number(a.carbon_intensity_gco2eq_per_kwh)} gCO2e/kWh (scope 2)`)
      : when([a.mix_gco2eq_per_wh], () => `carbon: implied mix ${number(a.mix_gco2eq_per_wh)} gCO2e per Wh (life cycle, scope 3)`);
    return [sentence(
      when([a.model], () => `Model ${a.model}`) + when([a.active_params_b], () => ` (${number(a.active_params_b)} B active parameters)`),
      when([perToken], () => `${number(perToken)} Wh per output token on one GPU (EcoLogits' regression)`),
      carbon,
    ) + ".", extra].filter(Boolean).join(" ");
  }
  const setup = state.lists.hardware.get(a.hardware) || {};
  const serving = a.energy_model === "model-aware"
    ? sentence(
      when([a.model], () => `Model ${a.model}`) + when([a.active_params_b], () => ` (${number(a.active_params_b)} B active parameters${a.precision ? `, ${a.precision}` : ""})`),
      when([a.n_gpu, a.gpu, a.hardware], () => `${a.n_gpu} x ${a.gpu} GPUs to hold the weights (${a.hardware} preset's board, model-aware energy model)`))
    : when([a.hardware], () => `Serving setup ${a.hardware}`) + when([setup.description], () => `: ${setup.description}`);
  return sentence(
    serving,
    when([a.n_gpu, a.gpu_power_w, a.gpu_utilisation], () => `${a.n_gpu} GPU${a.n_gpu === 1 ? "" : "s"} of ${number(a.gpu_power_w)} W at ${percent(a.gpu_utilisation)} draw`),
    when([a.batch_size], () => `${number(a.batch_size)} requests served at once`),
    when([a.decode_tokens_per_s], () => `answer written at ${number(a.decode_tokens_per_s)} tokens/s`),
    when([result.duration_s, result.prefill_s, result.decode_s], () => `${quantity("duration_s", result.duration_s)} per request (prompt ${quantity("duration_s", result.prefill_s)}, answer ${quantity("duration_s", result.decode_s)})`),
    when([a.region, a.carbon_intensity_gco2eq_per_kwh], () => `grid ${a.region}: ${number(a.carbon_intensity_gco2eq_per_kwh)} gCO2e/kWh`),
    when([a.datacenter, a.pue], () => `datacentre ${a.datacenter}: PUE ${number(a.pue)}`),
  ) + "." + (extra ? ` ${extra}` : "");
}

function titleText(result) {
  const requests = result.count === 1 ? "One request" : `${count(result.count)} requests`;
  const tokens = when([result.input_tokens, result.output_tokens], () => `${count(result.input_tokens)} tokens in, ${count(result.output_tokens)} out`);
  const a = result.assumptions || {};
  const how = result.method === "parameter" ? `parameter method (${[result.model, result.mix ? `${result.mix} carbon factor` : ""].filter(Boolean).join(", ")})`
    : result.deployment ? `model-aware method (${a.model || "model size given"}, hardware unknown: ranges)`
    : a.energy_model === "model-aware" ? `${result.method} method, model-aware (${a.model || "model size given"})`
      : `${result.method} method`;
  const where = when([result.region], () => `region ${result.region}`);
  return [requests, tokens, how, where].filter(Boolean).join(" · ");
}

function showEstimate(result) {
  $("result-title").textContent = titleText(result);
  for (const [prefix, key] of FIGURES) {
    const present = isNumber(result[key]);
    $(`row-${prefix}`).hidden = !present;
    if (!present) continue;
    const kind = kindOf(key);
    const unit = unitFor(kind, result[key]);
    for (const [suffix, field] of [["value", key], ["min", `${key}_min`], ["max", `${key}_max`]]) {
      const node = $(`${prefix}-${suffix}`);
      const value = isNumber(result[field]) ? result[field] : result[key]; // no range given: the central value
      node.dataset.value = String(value); // exact, in the API's unit
      node.dataset.unit = unit.unit;
      node.textContent = quantity(kind, value, unit);
    }
    $(`${prefix}-covers`).textContent = plainCovers(result, key);
  }
  const per = result.per_request || {};
  $("result-per-request").textContent = result.count > 1
    ? "Per request: " + [["energy_kwh", per.energy_kwh], ["carbon_gco2eq", per.carbon_gco2eq], ["water_l", per.water_l]]
      .filter(([, value]) => isNumber(value)).map(([key, value]) => quantity(kindOf(key), value)).join(", ") + "."
    : "";
  $("result-assumptions").textContent = assumptionsText(result);
  $("result-warnings").replaceChildren(...(result.warnings || []).map((text) => el("li", {}, text)));
  $("result-covers-api").replaceChildren(...Object.entries(result.covers || {}).flatMap(([key, text]) => [el("dt", {}, key), el("dd", {}, text)]));
  offerDownload($("estimate-json"), JSON.stringify(result, null, 2) + "\n", "application/json", "genai-carbon-estimate.json");
  offerDownload($("estimate-csv"), toCSV(flatten(result)), "text/csv", "genai-carbon-estimate.csv");
  $("result").hidden = false;
  showEquivalences($("result-equivalences"), result.energy_kwh, result.carbon_gco2eq);
}

/** Everyday equivalences of a footprint (GET /equivalences), labelled as illustrations with basis and source. */
async function showEquivalences(box, energyKwh, carbonGco2eq) {
  box.replaceChildren();
  if (!hasRoute(state.openapi, "/equivalences")) return;
  const params = new URLSearchParams();
  if (isNumber(energyKwh)) params.set("energy_kwh", String(energyKwh));
  if (isNumber(carbonGco2eq)) params.set("carbon_gco2eq", String(carbonGco2eq));
  let data;
  try {
    data = await api(`/equivalences?${params}`);
  } catch (error) {
    box.append(el("p", { className: "small" }, `Equivalences not available: ${error.message}`));
    return;
  }
  const items = (data.equivalences || []).filter((row) => isNumber(row.amount)).map((row) => el(
    "li", {},
    el("strong", {}, `≈ ${everyday(row.amount, row.result_unit)}`), ` ${row.label}`,
    el("span", { className: "basis" }, ` (from ${quantity(row.quantity, row.quantity_value)}; basis: ${row.basis}; `,
      el("a", { href: row.url, rel: "noopener" }, row.source), `, ${row.year})`),
  ));
  if (!items.length) return;
  box.append(el("h3", {}, "For illustration"), el("p", { className: "small" }, `Everyday equivalents: ${data.note}.`), el("ul", {}, ...items));
}

async function runEstimate() {
  clearErrors();
  $("error-form").textContent = "";
  updateFields();
  const body = formBody();
  writeURL(body);
  const { result, errors = {}, formError } = await estimateAll(body);
  for (const [field, message] of Object.entries(errors)) showFieldError(field, message);
  if (formError) $("error-form").textContent = formError;
  if (!result) {
    $("result").hidden = true;
    return false;
  }
  showEstimate(result);
  return true;
}

// --- the comparison chart ------------------------------------------------------------------------

function draw(canvasId, makeConfig) {
  state.redraw[canvasId] = makeConfig;
  if (state.charts[canvasId]) state.charts[canvasId].destroy();
  state.charts[canvasId] = new Chart($(canvasId), makeConfig(chartTheme()));
}

/** A short label for a bar: hardware presets say what they serve (GPUs, model class). */
function barLabel(by, name, result) {
  if (by !== "hardware") return name;
  const a = result.assumptions || {};
  const gpus = isNumber(a.n_gpu) ? `${a.n_gpu} GPU${a.n_gpu === 1 ? "" : "s"}` : "";
  const serves = a.energy_model === "model-aware" ? a.model || "" : modelClassOf(name);
  return [name, [gpus, serves].filter(Boolean).join(" · ")]; // two lines: the name, then what it serves
}

function modelClassOf(hardwareName) {
  const description = (state.lists.hardware.get(hardwareName) || {}).description || "";
  const match = description.match(/(\d+(?:\.\d+)?B)-class/i);
  return match ? `${match[1]}-class` : "";
}

/** Why every bar has the same height, in words. */
function whyEqual(by, key, method) {
  if (by === "region" && key === "energy_kwh") return "Every region has the same energy: the electricity used does not depend on the grid it comes from. Compare by carbon or water to see the grids differ.";
  if (by === "model" && method !== "parameter" && !$("model").value.trim()) return "Every model has the same figure here.";
  return `Every bar is equal: the ${QUANTITY_NAMES[key]} of the ${method} method does not depend on the ${by}.`;
}

/** The names to compare: the "Only" list, else the server's compared regions (the data pack has hundreds), else every known name (at most MAX_COMPARED). */
function comparedNames(by) {
  const typed = $("compare-names").value.split(",").map((name) => name.trim()).filter(Boolean);
  if (typed.length) return { names: typed };
  if (by === "region" && state.comparedRegions.length) return { names: state.comparedRegions };
  const names = [...state.lists[by].keys()];
  if (names.length > MAX_COMPARED) return { error: `only: the list has ${count(names.length)} ${by === "hardware" ? "hardware presets" : `${by}s`}; type up to ${MAX_COMPARED} names, separated by commas` };
  return { names };
}

async function runCompare() {
  $("error-compare").textContent = "";
  const note = [];
  const by = $("compare-by").value;
  const key = $("compare-quantity").value;
  const method = methodOf();
  const fail = (message) => {
    $("error-compare").textContent = message;
    $("compare-note").textContent = "";
    $("compare-box").hidden = true;
    $("compare-table-box").hidden = true;
  };
  writeURL();
  if (method === "parameter" && by === "hardware") return fail("compare: the parameter method knows no hardware (it estimates from the model's size alone); choose the hardware method to compare serving setups");
  if (method === "parameter" && key === "water_l") return fail("compare: the parameter method gives no water figure; compare by carbon or energy");
  const { names, error } = comparedNames(by);
  if (error) return fail(error);
  if (!names.length) return fail(`compare: no ${by} to compare`);
  const overrides = {};
  if (method === "parameter" && by === "region" && $("mix").value !== "grid") {
    overrides.mix = "grid";
    note.push("Regions are compared on their grids (carbon factor 'grid', scope 2): the implied life-cycle factor is one figure for every region.");
  }
  if (by === "hardware" && !$("model").value.trim()) {
    const classes = new Map();
    for (const name of names) {
      const modelClass = modelClassOf(name) || "another";
      classes.set(modelClass, [...(classes.get(modelClass) || []), name]);
    }
    if (classes.size > 1) {
      note.push(`These presets serve different model sizes (${[...classes].map(([modelClass, members]) => `${modelClass}: ${members.join(", ")}`).join("; ")}), so they are not compared on the same work: pick a model to size every board for it.`);
    }
  }
  const base = formBody(overrides);
  const settled = await Promise.allSettled(names.map((name) => postJSON("/calculate", { ...base, [by]: name })));
  const rows = [];
  const failed = [];
  settled.forEach((outcome, i) => {
    if (outcome.status === "rejected") failed.push(`${names[i]} (${outcome.reason.message})`);
    else if (isNumber(outcome.value[key])) rows.push({ name: names[i], result: outcome.value });
    else failed.push(`${names[i]} (no ${QUANTITY_NAMES[key]} figure)`);
  });
  if (failed.length) $("error-compare").textContent = `not compared: ${failed.join("; ")}`;
  if (!rows.length) return fail($("error-compare").textContent || "compare: nothing to draw");
  rows.sort((a, b) => a.result[key] - b.result[key]);
  const values = rows.map((row) => row.result[key]);
  if (rows.length > 1 && values.every((value) => value === values[0])) note.push(whyEqual(by, key, method));
  if (rows.some((row) => row.name === $(by).value.trim())) note.push(`The form's ${by} (${$(by).value.trim()}) is the highlighted bar.`);
  $("compare-note").textContent = note.join(" ");
  drawComparison(by, key, rows);
}

function drawComparison(by, key, rows) {
  const kind = kindOf(key);
  const unit = unitFor(kind, Math.max(...rows.map((row) => row.result[key])));
  const scaled = (value) => (isNumber(value) ? value / unit.factor : null);
  const labels = rows.map((row) => barLabel(by, row.name, row.result));
  const chosen = $(by).value.trim(); // the form's own choice, highlighted
  const centralValues = rows.map((row) => scaled(row.result[key]));
  const ranges = rows.map((row) => [scaled(row.result[`${key}_min`]), scaled(row.result[`${key}_max`])]);
  const requests = rows[0].result.count;
  const axis = `${QUANTITY_NAMES[key]} ${requests === 1 ? "per request" : `of ${count(requests)} requests`} (${unit.unit})`;
  const log = $("compare-log").checked;
  const highs = ranges.map((range) => range[1]).filter(isNumber);
  const lows = ranges.map((range) => range[0]).filter((value) => isNumber(value) && value > 0);
  $("compare-box").hidden = false;
  $("compare-box").style.height = `${Math.max(180, 70 + (Array.isArray(labels[0]) ? 40 : 30) * rows.length)}px`;
  const lowest = rows[0];
  const highest = rows[rows.length - 1];
  $("compare-chart").setAttribute("aria-label", `Bar chart of ${axis} by ${by}, sorted from lowest (${lowest.name}, ${quantity(kind, lowest.result[key])}) to highest (${highest.name}, ${quantity(kind, highest.result[key])}); the table below holds every value.`);
  draw("compare-chart", (c) => ({
    type: "bar",
    data: {
      labels,
      datasets: [{
        label: axis, data: centralValues, backgroundColor: rows.map((row) => (row.name === chosen ? c.highlight : c.accent)), whiskers: ranges, whiskerColor: c.whisker, barPercentage: 0.7, categoryPercentage: 0.9,
      }],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: {
          type: log ? "logarithmic" : "linear",
          beginAtZero: !log,
          suggestedMax: highs.length ? Math.max(...highs) : undefined,
          suggestedMin: log && lows.length ? Math.min(...lows) : undefined,
          title: { display: true, text: axis },
          ticks: { callback: (value) => number(Number(value), 3) },
        },
        y: { ticks: { autoSkip: false } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => { const r = ranges[item.dataIndex]; return `${number(item.raw)} ${unit.unit}${isNumber(r[0]) ? ` (range ${number(r[0])} to ${number(r[1])})` : ""}`; } } },
      },
    },
    plugins: [whiskerPlugin],
  }));
  $("compare-table").replaceChildren(table(
    [by, "what it is", `central (${unit.unit})`, `low (${unit.unit})`, `high (${unit.unit})`],
    rows.map((row, i) => [row.name === chosen ? `${row.name} (the form's)` : row.name, describe(by, row), number(centralValues[i]), number(ranges[i][0]), number(ranges[i][1])]),
    `${axis}, by ${by}, sorted`,
  ));
  $("compare-table-box").hidden = false;
}

function describe(by, row) {
  const a = row.result.assumptions || {};
  if (by === "hardware") return a.energy_model === "model-aware" ? `${a.n_gpu} x ${a.gpu} for ${a.model}` : (state.lists.hardware.get(row.name) || {}).description || "";
  if (by === "region") return when([a.carbon_intensity_gco2eq_per_kwh], () => `${number(a.carbon_intensity_gco2eq_per_kwh)} gCO2e/kWh`);
  if (by === "model") return when([a.active_params_b], () => `${number(a.active_params_b)} B active parameters`);
  return "";
}

// --- uploads (shown only when their route exists) ------------------------------------------------

function resolve(schema) {
  const ref = schema && schema.$ref;
  return ref ? state.openapi.components.schemas[ref.split("/").pop()] || {} : schema || {};
}

/** How a route takes a file: multipart with its binary field's name, or the raw body. */
function uploadRequest(path, file) {
  const content = ((state.openapi.paths[path].post || {}).requestBody || {}).content || {};
  if (content["multipart/form-data"]) {
    const props = resolve(content["multipart/form-data"].schema).properties || {};
    const field = Object.keys(props).find((name) => props[name].format === "binary" || props[name].contentMediaType) || "file";
    const form = new FormData();
    form.append(field, file);
    return { method: "POST", body: form };
  }
  return { method: "POST", headers: { "content-type": Object.keys(content)[0] || "application/octet-stream" }, body: file };
}

/** The query parameters a route documents (its own, and those of a query model). */
function queryParameters(path) {
  return new Set(((state.openapi.paths[path] || {}).post || {}).parameters?.map((parameter) => parameter.name) || []);
}

/** The daily series of an answer: rows with a date (summed per date: one row per profile or group). */
function dailyRows(data) {
  const rows = Array.isArray(data.daily) ? data.daily : Array.isArray(data.groups) ? data.groups : [];
  const dateKey = rows.length && ("date" in rows[0] ? "date" : "day" in rows[0] ? "day" : null);
  if (!dateKey) return [];
  const byDate = new Map();
  for (const row of rows) {
    const sums = byDate.get(row[dateKey]) || { date: row[dateKey] };
    for (const [key, value] of Object.entries(row)) if (isNumber(value)) sums[key] = (sums[key] || 0) + value;
    byDate.set(row[dateKey], sums);
  }
  return [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
}

const TOTAL_ROWS = [
  ["requests", "requests", "count"], ["input_tokens", "input tokens", "count"], ["output_tokens", "output tokens", "count"],
  ["energy_kwh", "energy", "energy_kwh"], ["carbon_gco2eq", "carbon", "carbon_gco2eq"], ["water_l", "water", "water_l"],
  ["carbon_embodied_gco2eq", "embodied carbon (scope 3, not in carbon)", "carbon_gco2eq"],
];

function totalsTable(data) {
  const totals = data.totals || data.total || {};
  const perYear = data.per_year && typeof data.per_year === "object" ? data.per_year : null;
  const show = (kind, value) => (kind === "count" ? count(value) : quantity(kind, value));
  const rows = TOTAL_ROWS.filter(([key]) => isNumber(totals[key])).map(([key, label, kind]) => {
    const range = isNumber(totals[`${key}_min`]) ? `${show(kind, totals[`${key}_min`])} to ${show(kind, totals[`${key}_max`])}` : "exact";
    const cells = [label, show(kind, totals[key]), range];
    if (perYear) cells.push(isNumber(perYear[key]) ? show(kind, perYear[key]) : "");
    return cells;
  });
  const head = ["quantity", "total", "range (low to high)", ...(perYear ? [`per year (${perYear.method || "annualised"})`] : [])];
  return table(head, rows, "Totals");
}

function siteSettings() {
  const site = {};
  for (const name of ["region", "datacenter", "hardware"]) {
    const value = $(name).value.trim();
    if (value) site[name] = value;
  }
  return site;
}

async function runUpload(name) {
  const panel = $(`${name}-panel`);
  const path = panel.dataset.path;
  const errorBox = $(`error-${name}`);
  errorBox.textContent = "";
  const file = $(`${name}-file`).files[0];
  if (!file) {
    errorBox.textContent = "file: choose a file first";
    return;
  }
  const accepted = queryParameters(path);
  const site = Object.fromEntries(Object.entries(siteSettings()).filter(([key]) => accepted.has(key)));
  const params = new URLSearchParams(site);
  if (accepted.has("group_by")) params.set("group_by", "day");
  $(`${name}-button`).disabled = true;
  try {
    let data;
    try {
      data = await api(`${path}?${params}`, uploadRequest(path, file));
    } catch (error) {
      if (!(params.has("group_by") && /timestamp/i.test(error.message))) throw error;
      params.delete("group_by"); // a log without timestamps: totals only
      data = await api(`${path}?${params}`, uploadRequest(path, file));
    }
    renderUpload(name, data, site);
    if (name === "batch") await offerReport(file, site);
  } catch (error) {
    errorBox.textContent = error.message;
    $(`${name}-result`).hidden = true;
  } finally {
    $(`${name}-button`).disabled = false;
  }
}

const REPORT_PATH = "/report";

/** After a log upload, its accounting report (POST /report, CSV) offered as a download, with the same site settings. */
async function offerReport(file, site) {
  const link = $("batch-report");
  if (!link) return; // the API has no report route
  const status = $("batch-report-status");
  const accepted = queryParameters(REPORT_PATH);
  const params = new URLSearchParams(Object.entries(site).filter(([key]) => accepted.has(key)));
  params.set("output", "csv");
  status.textContent = "(preparing the report...)";
  try {
    const response = await fetch(`${REPORT_PATH}?${params}`, uploadRequest(REPORT_PATH, file));
    if (!response.ok) {
      const detail = await response.json().then((body) => body.detail).catch(() => `error ${response.status}`);
      status.textContent = `(no report: ${detail})`;
      return;
    }
    offerDownload(link, await response.text(), "text/csv", "genai-carbon-report.csv");
    status.textContent = "";
  } catch (error) { // the network failed: the log's own result stays
    status.textContent = `(no report: ${error.message})`;
  }
}

function renderUpload(name, data, site) {
  const box = $(`${name}-result`);
  const period = data.period || {};
  const first = period.start || period.first || "";
  const last = period.end || period.last || "";
  const siteWords = Object.entries(site).map(([key, value]) => `${key} ${value}`).join(", ");
  const used = data.defaults_used && Object.keys(data.defaults_used).length
    ? ` Rows that took them: ${Object.entries(data.defaults_used).map(([key, rows]) => `${key} ${count(rows)}`).join(", ")}.` : "";
  const summary = [
    data.source ? `File ${data.source}` : "",
    first && last ? `from ${first.slice(0, 10)} to ${last.slice(0, 10)}${isNumber(period.days) ? ` (${count(period.days)} days)` : ""}` : "",
    isNumber(data.rows) ? `${count(data.rows)} rows` : "",
  ].filter(Boolean).join(", ");
  const settings = siteWords
    ? `Estimated with the form's ${siteWords}${name === "batch" ? " for rows without their own" : ""}.${used}`
    : "Estimated with the default site settings.";
  const daily = dailyRows(data);
  const quantitySelect = el("select", { id: `${name}-quantity` },
    ...["carbon_gco2eq", "energy_kwh", "water_l"].filter((key) => daily.some((row) => isNumber(row[key]))).map((key) => new Option(QUANTITY_NAMES[key], key)));
  const equivalences = el("div", { className: "equivalences" });
  const totals = totalsTable(data);
  totals.id = `${name}-totals`;
  const csvLink = el("a", { id: `${name}-csv` }, "CSV");
  const jsonLink = el("a", { id: `${name}-json` }, "JSON");
  const parts = [
    el("p", { className: "small" }, `${summary}. ${settings}`),
    totals,
    equivalences,
  ];
  if (daily.length) {
    parts.push(
      el("div", { className: "row" }, el("label", { htmlFor: `${name}-quantity` }, "Daily"), quantitySelect),
      el("div", { className: "chart", id: `${name}-box` }, el("canvas", { id: `${name}-chart`, role: "img" })),
      el("details", {}, el("summary", {}, "The chart as a table"), el("div", { id: `${name}-daily-table` })),
    );
  } else {
    parts.push(el("p", { className: "small" }, "No dates in this answer: no daily chart."));
  }
  const notes = [...(data.warnings || []), ...(data.notes || [])];
  if (notes.length) parts.push(el("ul", { className: "small warnings" }, ...notes.map((text) => el("li", {}, text))));
  const downloads = el("p", { className: "downloads small" }, "Download: ", csvLink, " (one row per day) ", jsonLink, " (the whole answer)");
  if (name === "batch" && hasRoute(state.openapi, REPORT_PATH, "post")) {
    downloads.append(" ", el("a", { id: "batch-report", hidden: true }, "Report"),
      " (accounting report, CSV: location- and market-based totals per month, model and key) ", el("span", { id: "batch-report-status" }, ""));
  }
  parts.push(downloads);
  box.replaceChildren(...parts);
  box.hidden = false;
  offerDownload(jsonLink, JSON.stringify(data, null, 2) + "\n", "application/json", `genai-carbon-${name}.json`);
  offerDownload(csvLink, toCSV(daily.length ? daily : [data.totals || data.total || {}]), "text/csv", `genai-carbon-${name}-daily.csv`);
  const totalsData = data.totals || data.total || {};
  showEquivalences(equivalences, totalsData.energy_kwh, totalsData.carbon_gco2eq);
  if (daily.length) {
    const redrawDaily = () => drawDaily(name, daily, quantitySelect.value);
    quantitySelect.addEventListener("change", redrawDaily);
    redrawDaily();
  }
}

/** Whether the dates follow each other day by day (a line then reads right; with gaps, bars do). */
function consecutiveDays(daily) {
  const DAY_MS = 86400000;
  return daily.every((row, i) => i === 0 || Date.parse(row.date) - Date.parse(daily[i - 1].date) === DAY_MS);
}

function drawDaily(name, daily, key) {
  const kind = kindOf(key);
  const unit = unitFor(kind, Math.max(...daily.map((row) => row[key])));
  const scaled = (value) => (isNumber(value) ? value / unit.factor : null);
  const points = (field) => daily.map((row) => ({ x: row.date, y: scaled(row[field]) }));
  const hasRange = daily.every((row) => isNumber(row[`${key}_min`]) && isNumber(row[`${key}_max`]));
  const asLine = daily.length > 1 && consecutiveDays(daily);
  const axis = `${QUANTITY_NAMES[key]} per day (${unit.unit})`;
  const shape = asLine ? `Line chart${hasRange ? " with the range as a band" : ""}` : `Bar chart${hasRange ? " with the range as whiskers" : ""}`;
  $(`${name}-chart`).setAttribute("aria-label", `${shape} of ${axis}, ${daily.length} days from ${daily[0].date} to ${daily[daily.length - 1].date}; the table below holds every value.`);
  const rangeLabel = "range (low to high)";
  draw(`${name}-chart`, (c) => ({
    type: asLine ? "line" : "bar",
    data: {
      datasets: asLine
        ? [
          ...(hasRange ? [
            { label: "high", data: points(`${key}_max`), borderWidth: 0, pointRadius: 0, fill: false, backgroundColor: c.band },
            { label: rangeLabel, data: points(`${key}_min`), borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: c.band },
          ] : []),
          { label: axis, data: points(key), borderColor: c.accent, backgroundColor: c.accent, borderWidth: 2, pointRadius: daily.length > 40 ? 0 : 2, tension: 0 },
        ]
        : [{
          label: axis, data: points(key), backgroundColor: c.accent, maxBarThickness: 28,
          whiskers: hasRange ? daily.map((row) => [scaled(row[`${key}_min`]), scaled(row[`${key}_max`])]) : null, whiskerColor: c.whisker,
        }],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { type: "time", offset: !asLine, time: { tooltipFormat: "yyyy-MM-dd", minUnit: "day" }, ticks: { maxTicksLimit: 8 }, title: { display: true, text: "date" } },
        y: {
          beginAtZero: true,
          suggestedMax: hasRange ? Math.max(...daily.map((row) => scaled(row[`${key}_max`]))) : undefined,
          title: { display: true, text: axis },
          ticks: { callback: (value) => number(Number(value), 3) },
        },
      },
      plugins: {
        legend: { labels: { filter: (item) => item.text !== "high" } },
        tooltip: { callbacks: { label: (item) => `${{ high: "high", [rangeLabel]: "low" }[item.dataset.label] || "central"}: ${number(item.raw.y)} ${unit.unit}` } },
      },
    },
    plugins: asLine ? [] : [whiskerPlugin],
  }));
  const head = ["date", `central (${unit.unit})`, ...(hasRange ? [`low (${unit.unit})`, `high (${unit.unit})`] : [])];
  const rows = daily.map((row) => [row.date, number(scaled(row[key])), ...(hasRange ? [number(scaled(row[`${key}_min`])), number(scaled(row[`${key}_max`]))] : [])]);
  $(`${name}-daily-table`).replaceChildren(table(head, rows, axis));
}

function setupUpload(name) {
  const panel = $(`${name}-panel`);
  if (!hasRoute(state.openapi, panel.dataset.path, "post")) return; // route absent: the panel stays hidden
  panel.hidden = false;
  $(`${name}-button`).addEventListener("click", () => busy(() => runUpload(name)));
}

// --- start ------------------------------------------------------------------------------------------

function fillDatalist(list, entries, describeEntry) {
  list.replaceChildren(...entries.map(([name, data]) => el("option", { value: name, label: describeEntry(name, data) })));
}

function fillSelect(select, entries, describeEntry) {
  select.replaceChildren(...entries.map(([name, data]) => new Option(describeEntry(name, data), name)));
}

/** The methods the API offers (its enum), each with words. */
function methodNames() {
  const schema = resolve((((state.openapi.paths["/calculate"] || {}).post || {}).requestBody || { content: {} }).content["application/json"]?.schema);
  const property = (schema.properties || {}).method || {};
  const options = [property, ...(property.anyOf || [])].flatMap((item) => item.enum || []);
  return options.length ? options : ["hardware"];
}

async function loadLists() {
  const [regions, hardware, profiles, models, defaults] = await Promise.all([
    api("/regions"), api("/hardware"), api("/profiles"),
    hasRoute(state.openapi, "/models") ? api("/models") : Promise.resolve({}),
    postJSON("/calculate", {}).catch(() => ({ assumptions: {} })), // the server's defaults, as names
  ]);
  if (hasRoute(state.openapi, "/methods")) state.methods = await api("/methods").catch(() => ({}));
  const a = defaults.assumptions || {};
  for (const name of ["region", "datacenter", "hardware", "profile"]) if (typeof a[name] === "string") state.defaults[name] = a[name];
  const keep = (kind, entries) => { state.lists[kind] = new Map(entries); return entries; };
  fillDatalist($("region-list"), keep("region", entriesOf(regions, "regions")), (name, r) => [r.name, isNumber(r.carbon_intensity_gco2eq_per_kwh) ? `${number(r.carbon_intensity_gco2eq_per_kwh)} gCO2e/kWh` : ""].filter(Boolean).join(" · "));
  state.comparedRegions = Array.isArray(regions.compared_regions) ? regions.compared_regions : [];
  fillSelect($("datacenter"), keep("datacenter", entriesOf(regions, "datacenters")), (name, d) => (isNumber(central(d.pue)) ? `${name} (PUE ${number(central(d.pue))})` : name));
  fillDatalist($("hardware-list"), keep("hardware", entriesOf(hardware, "hardware")), (name, h) => h.description || "");
  fillSelect($("profile"), keep("profile", entriesOf(profiles, "profiles")), (name) => name);
  fillDatalist($("model-list"), keep("model", entriesOf(models, "models")), (name, m) => [m.provider, isNumber(central(m.active_params_b)) ? `${number(central(m.active_params_b))} B active` : ""].filter(Boolean).join(" · "));
  fillSelect($("method"), methodNames().map((name) => [name, {}]), (name) => (METHOD_LABELS[name] || [name])[0]);
  if (!state.lists.model.size) $("compare-by").querySelector('option[value="model"]').remove();
  for (const [name, value] of Object.entries(state.defaults)) setValue(name, value);
}

async function start() {
  $("estimate-form").addEventListener("submit", (event) => { event.preventDefault(); busy(estimateAndCompare); });
  $("compare-button").addEventListener("click", () => busy(runCompare));
  $("method").addEventListener("change", () => { state.methodChosen = true; });
  for (const name of ["method", "mix", "model", "hardware", "profile"]) $(name).addEventListener("change", updateFields);
  $("share-button").addEventListener("click", async () => {
    writeURL(formBody());
    try {
      await navigator.clipboard.writeText(location.href);
      $("share-status").textContent = "Link copied.";
    } catch (error) {
      $("share-status").textContent = `Link: ${location.href}`;
    }
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const [id, makeConfig] of Object.entries(state.redraw)) draw(id, makeConfig);
  });
  try {
    state.openapi = await openapiOf();
    await loadLists();
  } catch (error) {
    $("error-form").textContent = `could not load the lists: ${error.message}`;
  }
  readURL();
  updateFields();
  ["analytics", "batch"].forEach(setupUpload);
  await busy(estimateAndCompare); // a result on arrival
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
