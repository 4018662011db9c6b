// The Hog editor: line numbers beside the source, and compile errors at their line as one types.
const editor = document.querySelector(".code-editor");
const source = document.getElementById("hog-source");
const gutter = document.getElementById("hog-gutter");
const list = document.getElementById("hog-problems");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

function drawGutter(errorLines) {
  const count = source.value.split("\n").length;
  gutter.replaceChildren();
  for (let i = 1; i <= count; i += 1) {
    const span = document.createElement("span");
    span.textContent = String(i);
    if (errorLines.has(i)) span.className = "error";
    gutter.append(span, "\n");
  }
  gutter.scrollTop = source.scrollTop;
}

function showProblems(errors) {
  list.replaceChildren(
    ...errors.map((e) => {
      const item = document.createElement("li");
      item.dataset.line = String(e.line ?? "");
      item.textContent = e.line ? `Line ${e.line}, column ${e.column}: ${e.message}` : e.message;
      return item;
    }),
  );
  drawGutter(new Set(errors.map((e) => e.line).filter(Boolean)));
}

let timer = 0;
let latest = 0;
async function check() {
  const asked = ++latest;
  try {
    const answer = await fetch(editor.dataset.compileUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ source: source.value }),
    });
    if (!answer.ok || asked !== latest) return;
    showProblems((await answer.json()).errors);
  } catch {
    // offline or the server went away: keep the last result
  }
}

if (editor && source && gutter && list) {
  source.addEventListener("input", () => {
    drawGutter(new Set());
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  source.addEventListener("scroll", () => { gutter.scrollTop = source.scrollTop; });
  check();
}

// The playground: run the draft on recent events without saving, as the API's test_hog does.
const playground = document.getElementById("playground");
if (playground && source) {
  playground.hidden = false;
  const button = document.getElementById("run-playground");
  const message = document.getElementById("playground-message");
  const table = document.getElementById("playground-results");
  const form = source.form;
  button.addEventListener("click", async () => {
    let conditions = [];
    try { conditions = JSON.parse(form.elements.conditions.value || "[]"); } catch { conditions = []; }
    button.disabled = true;
    message.textContent = "Running…";
    try {
      const answer = await fetch(playground.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({
          source: source.value,
          sample_count: Number(document.getElementById("sample-count").value) || 5,
          allows_na: form.elements.allows_na.checked,
          conditions,
        }),
      });
      const body = await answer.json();
      const rows = body.results ?? [];
      message.textContent = body.error ? `Refused: ${JSON.stringify(body.error)}` : (body.message ?? `${rows.length} events evaluated.`);
      const tbody = table.tBodies[0];
      tbody.replaceChildren(...rows.map((r) => {
        const tr = document.createElement("tr");
        const verdict = r.result === true ? "pass" : r.result === false ? "fail" : "N/A";
        for (const text of [r.event_uuid.slice(0, 8), r.output_preview, r.error ? "error" : verdict, r.reasoning, r.error ?? ""]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.append(td);
        }
        tr.dataset.result = r.error ? "error" : verdict;
        return tr;
      }));
      table.hidden = rows.length === 0;
    } catch {
      message.textContent = "The playground could not reach the server.";
    } finally {
      button.disabled = false;
    }
  });
}
