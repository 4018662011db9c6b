// The conditions builder: condition sets (ORed), each with property filters (ANDed) and a rollout percentage,
// in PostHog's condition shape. It edits the JSON field of the form, which stays the source of truth (and is
// what the form posts, with or without JavaScript); editing the JSON by hand redraws the builder.
const field = document.querySelector('textarea[name="conditions"]');
const root = document.getElementById("conditions-builder");

const OPERATORS = [
  ["exact", "equals"], ["is_not", "does not equal"], ["icontains", "contains"], ["not_icontains", "does not contain"],
  ["regex", "matches regex"], ["not_regex", "does not match regex"], ["gt", ">"], ["gte", "≥"], ["lt", "<"],
  ["lte", "≤"], ["in", "is one of"], ["not_in", "is none of"], ["between", "between"], ["not_between", "not between"],
  ["is_set", "is set"], ["is_not_set", "is not set"], ["is_date_before", "date before"], ["is_date_after", "date after"],
  ["is_date_exact", "date is"],
];
const NO_VALUE = new Set(["is_set", "is_not_set"]);
const LISTS = new Set(["in", "not_in", "between", "not_between"]);
const NUMBERS = new Set(["gt", "gte", "lt", "lte", "between", "not_between"]);
const KEYS = ["$ai_model", "$ai_provider", "$ai_trace_id", "$ai_span_name", "$ai_http_status", "$ai_is_error",
  "$ai_latency", "$ai_input_tokens", "$ai_output_tokens", "$ai_total_cost_usd", "$ai_session_id", "email"];

function element(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

function shownValue(filter) {
  const value = filter.value;
  if (Array.isArray(value)) return value.join(", ");
  return value === undefined || value === null ? "" : String(value);
}

function parsedValue(operator, text, wasList) {
  const asNumber = (part) => (part !== "" && !Number.isNaN(Number(part)) ? Number(part) : part);
  if (LISTS.has(operator) || wasList) {
    const parts = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
    return NUMBERS.has(operator) ? parts.map(asNumber) : parts;
  }
  return NUMBERS.has(operator) ? asNumber(text.trim()) : text;
}

function read() {
  try {
    const value = JSON.parse(field.value || "[]");
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

let sets = [];

function write() {
  field.value = JSON.stringify(sets, null, 2);
  field.dispatchEvent(new Event("conditions:changed", { bubbles: true }));
}

function filterRow(set, filter, index) {
  const type = element("select", { "aria-label": "Property of" },
    element("option", { value: "event", text: "event", selected: filter.type !== "person" }),
    element("option", { value: "person", text: "person", selected: filter.type === "person" }));
  const key = element("input", { value: filter.key ?? "", list: "condition-keys", placeholder: "property", "aria-label": "Property" });
  const operator = element("select", { "aria-label": "Operator" },
    ...OPERATORS.map(([value, label]) => element("option", { value, text: label, selected: (filter.operator ?? "exact") === value })));
  const value = element("input", { value: shownValue(filter), placeholder: "value", "aria-label": "Value" });
  value.hidden = NO_VALUE.has(filter.operator);
  const remove = element("button", { type: "button", class: "link-button", text: "Remove", "aria-label": "Remove filter" });
  const wasList = Array.isArray(filter.value);
  const update = () => {
    const next = { ...filter, key: key.value.trim(), operator: operator.value, type: type.value };
    if (NO_VALUE.has(operator.value)) delete next.value;
    else next.value = parsedValue(operator.value, value.value, wasList && !NUMBERS.has(operator.value));
    set.properties[index] = next;
    value.hidden = NO_VALUE.has(operator.value);
    write();
  };
  for (const input of [type, key, operator, value]) input.addEventListener("change", update);
  remove.addEventListener("click", () => { set.properties.splice(index, 1); write(); draw(); });
  return element("li", { class: "condition-filter" }, type, key, operator, value, remove);
}

function setCard(set, index) {
  set.properties = Array.isArray(set.properties) ? set.properties : [];
  const filters = element("ul", { class: "condition-filters" }, ...set.properties.map((f, i) => filterRow(set, f, i)));
  if (set.properties.length === 0) filters.append(element("li", { class: "muted small", text: "Every generation (no filter)." }));
  const rollout = element("input", {
    type: "number", min: 0, max: 100, step: "any", value: set.rollout_percentage ?? 100, "aria-label": "Rollout percentage",
  });
  rollout.addEventListener("change", () => {
    const percent = Number(rollout.value);
    set.rollout_percentage = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 100;
    rollout.value = String(set.rollout_percentage);
    write();
  });
  const add = element("button", { type: "button", text: "+ Filter" });
  add.addEventListener("click", () => {
    set.properties.push({ key: "$ai_model", value: "", operator: "exact", type: "event" });
    write();
    draw();
  });
  const remove = element("button", { type: "button", class: "link-button", text: "Remove set" });
  remove.addEventListener("click", () => { sets.splice(index, 1); write(); draw(); });
  return element("div", { class: "condition-set", "data-index": index },
    element("div", { class: "condition-head" },
      element("strong", { text: index === 0 ? "Evaluate generations where" : "or where" }), remove),
    filters,
    element("div", { class: "condition-foot" }, add,
      element("label", { class: "check" }, "Sample ", rollout, " % of users (by distinct id)")));
}

function draw() {
  const addSet = element("button", { type: "button", text: "+ Condition set (or)" });
  addSet.addEventListener("click", () => {
    sets.push({ id: crypto.randomUUID(), properties: [], rollout_percentage: 100 });
    write();
    draw();
  });
  const keys = element("datalist", { id: "condition-keys" }, ...KEYS.map((k) => element("option", { value: k })));
  const empty = sets.length === 0 ? [element("p", { class: "muted small", text: "No condition set: nothing is evaluated." })] : [];
  root.replaceChildren(keys, ...empty, ...sets.map(setCard), addSet);
}

function load() {
  const parsed = read();
  if (parsed === null) {
    root.replaceChildren(element("p", { class: "error-notice small", text: "The JSON below is not a list of condition sets: fix it to use the builder." }));
    return;
  }
  sets = parsed.map((set) => (set && typeof set === "object" ? set : { properties: [] }));
  draw();
}

if (field && root) {
  root.hidden = false;
  const json = field.closest("details");
  if (json && !document.querySelector(".error-notice")) json.open = false;  // the builder shows the same
  field.addEventListener("change", load);
  load();
}
