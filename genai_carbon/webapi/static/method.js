// The method page: renders what the API offers (covers, validation, equivalences, the data and
// its sources, the data version); a route the server lacks is said to be "not available".
import { $, api, el, entriesOf, hasRoute, isNumber, number, openapiOf, postJSON, table } from "/static/format.js";

const notAvailable = (what, route) => el("p", { className: "small" }, `${what}: not available from this server${route ? ` (no ${route} route)` : ""}.`);

/** A cell for any JSON value: numbers with grouped digits, lists joined, objects as key: value. */
function cell(value) {
  if (value === null || value === undefined) return "";
  if (isNumber(value)) return number(value);
  if (Array.isArray(value)) return value.map(cell).join("; ");
  if (typeof value === "object") {
    if ("value" in value) return cell(value.value) + (isNumber(value.min) ? ` (${cell(value.min)} to ${cell(value.max)})` : "");
    return Object.entries(value).map(([key, inner]) => `${key}: ${cell(inner)}`).join(", ");
  }
  return String(value);
}

/** Any list of records (or a name -> record mapping) as a table with one column per key met. */
function genericTable(entries, caption) {
  const columns = [];
  for (const [, record] of entries) for (const key of Object.keys(record || {})) if (!columns.includes(key)) columns.push(key);
  return table(["name", ...columns], entries.map(([name, record]) => [name, ...columns.map((key) => cell((record || {})[key]))]), caption);
}

/** The data version in an answer: a key such as data_version, pack_version or version (two levels deep). */
function findVersion(data, depth = 0) {
  if (!data || typeof data !== "object" || depth > 2) return null;
  for (const [key, value] of Object.entries(data)) {
    if (/^(data_?pack_?version|pack_?version|data_?version|version)$/i.test(key) && (typeof value === "string" || isNumber(value))) return String(value);
  }
  for (const value of Object.values(data)) {
    const found = findVersion(value, depth + 1);
    if (found) return found;
  }
  return null;
}

/** The registry of methods (GET /methods): each method's description, where it is offered and what its figures cover. */
function registryTables(registry) {
  const parts = [el("p", { className: "small" }, "The methods this server knows (GET /methods), with where each can be chosen and what its figures cover, in the API's words.")];
  for (const [name, method] of entriesOf(registry, "methods")) {
    parts.push(
      el("h3", {}, name),
      el("p", {}, [method.description ? `${method.description.replace(/\.?$/, ".")}` : "", method.interfaces ? `Where it can be chosen: ${method.interfaces.join(", ")}.` : ""].filter(Boolean).join(" ")),
      table(["figure", "covers"], Object.entries(method.covers || {}).map(([key, text]) => [key, text])),
    );
  }
  return parts;
}

async function coversTables(openapi) {
  if (!hasRoute(openapi, "/methods")) {
    $("covers-tables").replaceChildren(notAvailable("What each method's figures cover", "GET /methods"));
    return;
  }
  try {
    $("covers-tables").replaceChildren(...registryTables(await api("/methods")));
  } catch (error) {
    $("covers-tables").replaceChildren(el("p", { className: "error" }, `methods: ${error.message}`));
  }
}

/** One row per method: the error factor overall, by task and by board, the share beyond 2x, the count beyond 3x, the worst. */
function summaryTable(rows, caption) {
  const tasks = [...new Set(rows.flatMap(([, result]) => Object.keys(result.by_task || {})))];
  const boards = [...new Set(rows.flatMap(([, result]) => Object.keys(result.by_board || {})))];
  const worst = (result) => {
    const factor = result.worst_case ? result.worst_case.error_factor : result.worst_factor;
    return `${number(factor, 3)}x${result.worst_case ? ` (${result.worst_case.id})` : ""}`;
  };
  const pick = (group, key) => (group && group[key] ? number(group[key].error_factor, 3) : "");
  return table(
    ["method", "cases", "all", ...tasks, ...boards.map((board) => board.toUpperCase()), "beyond 2x", "beyond 3x", "worst"],
    rows.map(([name, result]) => [
      name, number(result.n_cases), number(result.error_factor, 3),
      ...tasks.map((task) => pick(result.by_task, task)), ...boards.map((board) => pick(result.by_board, board)),
      isNumber(result.share_beyond_2x) ? `${number(result.share_beyond_2x * 100, 2)} %` : "", number(result.n_beyond_3x), worst(result),
    ]),
    caption,
  );
}

function perCaseTable(data) {
  const methods = Object.entries(data.methods || {});
  const caseIds = [];
  const byCase = new Map();
  for (const [name, result] of methods) {
    for (const row of result.cases || []) {
      if (!byCase.has(row.id)) { caseIds.push(row.id); byCase.set(row.id, { boundary: row.boundary, published: row.published_wh_per_request }); }
      byCase.get(row.id)[name] = row;
    }
  }
  return table(
    ["case", "boundary", "published (Wh per request)", ...methods.flatMap(([name]) => [`${name}: predicted (Wh)`, `${name}: r`])],
    caseIds.map((id) => {
      const row = byCase.get(id);
      return [id, row.boundary || "", number(row.published), ...methods.flatMap(([name]) => {
        const entry = row[name] || {};
        return entry.status && entry.status !== "ok" ? [entry.status, ""] : [number(entry.predicted_wh_per_request), number(entry.ratio, 3)];
      })];
    }),
    "each case, predicted and published",
  );
}

async function validationTables(openapi) {
  if (!hasRoute(openapi, "/validation")) {
    $("validation-tables").replaceChildren(notAvailable("The validation tables", "GET /validation"));
    return;
  }
  const [headline, published] = await Promise.allSettled([api("/validation?cases=mlenergy-v3&cross_validate=true"), api("/validation?cases=published")]);
  const parts = [];
  if (headline.status === "fulfilled") {
    const data = headline.value;
    const rows = [
      ...(data.leave_one_model_out ? [["model-aware, each model left out of the fit", data.leave_one_model_out]] : []),
      ...Object.entries(data.methods || {}).map(([name, result]) => [name === "model-aware" ? "model-aware, in sample" : name, result]),
    ];
    parts.push(
      el("h3", {}, `ML.ENERGY Leaderboard v3: ${number(data.n_cases)} configurations (the headline)`),
      summaryTable(rows, `the methods against ${data.source}`),
      el("p", { className: "small" }, `Fit: ${data.fit || "not given"}. Cases: ${data.source}.`),
    );
  } else {
    parts.push(el("p", { className: "error" }, `validation: ${headline.reason.message}`));
  }
  if (published.status === "fulfilled") {
    const data = published.value;
    parts.push(
      el("h3", {}, "Published cases: seven ML.ENERGY measurements and Epoch AI's GPT-4o figure"),
      summaryTable(Object.entries(data.methods || {}), `the methods against ${data.source}`),
      el("details", {}, el("summary", {}, "Each case"), perCaseTable(data)),
    );
  }
  $("validation-tables").replaceChildren(...parts);
}

async function equivalenceFactors(openapi) {
  if (!hasRoute(openapi, "/equivalences")) {
    $("equivalence-factors").replaceChildren(notAvailable("Equivalences", "GET /equivalences"));
    return;
  }
  const data = await api("/equivalences");
  $("equivalence-factors").replaceChildren(
    el("p", { className: "small" }, `${data.note}.`),
    table(["equivalence", "divides", "factor", "basis", "source", "year"], Object.entries(data.factors || {}).map(([name, factor]) => [
      name, factor.quantity, `${number(factor.value)} ${factor.unit}${factor.per !== 1 ? ` for ${number(factor.per)} ${factor.result_unit}` : ""}`,
      factor.basis, el("a", { href: factor.url, rel: "noopener" }, factor.source), String(factor.year),
    ]), "everyday equivalences"),
  );
}

async function dataTables(openapi, lists) {
  const [regions, hardware, profiles, models] = lists;
  const parts = [];
  const block = (title, node) => parts.push(el("details", {}, el("summary", {}, title), node));
  const regionEntries = entriesOf(regions, "regions");
  if (regionEntries.length) block(`Grids (${regionEntries.length})`, genericTable(regionEntries, "grids: carbon intensity and off-site water"));
  const centres = entriesOf(regions, "datacenters");
  if (centres.length) block(`Datacentres (${centres.length})`, genericTable(centres, "datacentre presets: PUE and on-site water"));
  const setups = entriesOf(hardware, "hardware");
  if (setups.length) {
    block(`Serving setups (${setups.length})`, table(["name", "what it serves", "GPUs", "batch", "decode (tokens/s)", "source"], setups.map(([name, s]) => [
      name, s.description || "", `${cell(s.n_gpu)} x ${s.gpu || ""}`, cell(s.batch_size), cell(s.decode_tokens_per_s), s.source || "",
    ]), "hardware presets"));
  }
  const gpus = entriesOf(hardware, "gpus");
  if (gpus.length) block(`GPU boards (${gpus.length})`, genericTable(gpus, "GPU boards"));
  const profileEntries = entriesOf(profiles, "profiles");
  if (profileEntries.length) block(`Usage profiles (${profileEntries.length})`, genericTable(profileEntries, "usage profiles"));
  const modelEntries = entriesOf(models, "models");
  if (modelEntries.length) {
    block(`Models (${modelEntries.length})`, table(["name", "provider", "active parameters (B)", "total parameters (B)", "source"], modelEntries.map(([name, m]) => [
      name, m.provider || "", cell(m.active_params_b), cell(m.total_params_b), m.source || "",
    ]), "models"));
  }
  $("data-tables").replaceChildren(...(parts.length ? parts : [notAvailable("The data lists")]));
  const method = models && models.parameter_method;
  if (method) {
    $("parameter-constants").replaceChildren(el("p", { className: "small" },
      `alpha = ${number(method.alpha_wh_per_token_per_b_params)} Wh per token per billion parameters, beta = ${number(method.beta_wh_per_token)} Wh per token (${method.source}); `
      + `implied mix = ${number(method.implied_mix_gco2eq_per_wh)} gCO2e per Wh, calibrated on ${cell((method.calibration || {}).model)}: ${cell((method.calibration || {}).source)}.`));
  }
}

async function sourcesList(openapi, estimate) {
  let sources = null;
  if (hasRoute(openapi, "/sources")) {
    try {
      sources = await api("/sources");
    } catch (error) {
      $("sources-list").replaceChildren(el("p", { className: "error" }, `sources: ${error.message}`));
    }
  } else {
    $("sources-list").replaceChildren(notAvailable("The list of sources", "GET /sources"),
      el("p", { className: "small" }, "Each entry of the data above names its source; the configuration files in config/ give them in full."));
  }
  if (sources) {
    const listed = Array.isArray(sources) ? sources : Array.isArray(sources.sources) ? sources.sources : null;
    const entries = listed ? listed.map((item, i) => [item.id || item.name || item.key || String(i + 1), item]) : entriesOf(sources, "sources");
    $("sources-list").replaceChildren(entries.length ? genericTable(entries, "sources") : el("pre", {}, JSON.stringify(sources, null, 2)));
  }
  const version = findVersion(sources) || findVersion(estimate) || null;
  $("data-version").textContent = version ? `Data version: ${version}.` : "Data version: not available from this server.";
}

async function start() {
  const openapi = await openapiOf();
  const get = (path) => (hasRoute(openapi, path) ? api(path).catch(() => ({})) : Promise.resolve({}));
  const lists = await Promise.all([get("/regions"), get("/hardware"), get("/profiles"), get("/models")]);
  await Promise.allSettled([
    coversTables(openapi),
    validationTables(openapi),
    equivalenceFactors(openapi),
    dataTables(openapi, lists),
  ]);
  await sourcesList(openapi, await postJSON("/calculate", {}).catch(() => null)); // an estimate may carry the data version
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
