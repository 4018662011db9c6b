// The events page's live tail: follow /events/stream and put new events at the top of the table.
// Without JavaScript the page is the same list with a Refresh link.

const MAX_ROWS = 200;

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function linkCell(href, text, className) {
  const td = cell("", className);
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  td.append(a);
  return td;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 60 ? `${value.toFixed(1)} s` : `${Math.floor(value / 60)} min ${String(Math.floor(value % 60)).padStart(2, "0")} s`;
}

function row(event) {
  const tr = document.createElement("tr");
  tr.dataset.seq = String(event.seq);
  tr.className = event.is_error ? "fresh error-row" : "fresh";
  tr.append(
    linkCell(`/events/${encodeURIComponent(event.uuid)}`, event.timestamp, "nowrap"),
    cell(event.event),
    cell(event.model || "–"),
    cell(event.provider || "–"),
    cell(event.distinct_id, "clip"),
    event.trace_id ? linkCell(`/traces/${encodeURIComponent(event.trace_id)}`, event.trace_id, "clip") : cell("–", "clip"),
    cell(event.tokens === null ? "–" : String(Math.trunc(event.tokens)), "num"),
    cell(seconds(event.latency_s), "num"),
    cell(event.cost_usd === null ? "–" : `$${event.cost_usd.toFixed(4)}`, "num"),
  );
  return tr;
}

function follow(table, status) {
  const url = status.dataset.streamUrl;
  if (!url || typeof EventSource === "undefined") return;
  const body = document.getElementById("events-body");
  const source = new EventSource(url);
  let arrived = 0;
  const live = () => (arrived ? `live · ${arrived.toLocaleString()} new since this page opened` : "live");
  source.addEventListener("open", () => { status.textContent = live(); });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; });
  source.addEventListener("events", (message) => {
    const data = JSON.parse(message.data);
    const known = new Set(Array.from(body.rows, (r) => r.dataset.seq));
    const fresh = data.events.filter((e) => !known.has(String(e.seq)));
    for (const event of fresh.reverse()) body.prepend(row(event));
    while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
    document.getElementById("events-empty")?.remove();
    arrived += Number(data.arrived ?? fresh.length);
    status.textContent = live();
  });
}

const table = document.getElementById("events-table");
const status = document.getElementById("tail-status");
if (table && status && table.dataset.live === "on") follow(table, status);
