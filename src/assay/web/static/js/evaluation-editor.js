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
