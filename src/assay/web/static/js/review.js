// The review queue from the keyboard: move with j/k or arrows, p/f/digits to score, Enter saves and advances,
// u undoes the last save, ? lists the shortcuts. Saves go through fetch() with the session's CSRF token; every
// answer carries the next panel as server-rendered HTML, swapped in place.
import { csrfToken } from "./app.js";

const root = document.getElementById("review");
const dialog = document.getElementById("shortcuts");
const undoStack = []; // result ids saved on this page, most recent last

function panel() {
  return document.getElementById("review-panel");
}

function showAll() {
  return root.dataset.showAll === "1";
}

function mine() {
  return root.dataset.mine === "1";
}

function message(text, isError = false) {
  const box = document.getElementById("review-message");
  if (!box) return;
  box.textContent = text;
  box.classList.toggle("error", isError);
}

function swap(answer) {
  root.innerHTML = answer.html;
  history.replaceState(null, "", answer.url);
  enhance();
}

async function failure(response) {
  const text = await response.text();
  const found = new DOMParser().parseFromString(text, "text/html").querySelector("main p");
  return `${response.status}: ${found ? found.textContent : response.statusText}`;
}

async function show(resultId) {
  const params = new URLSearchParams();
  if (resultId) params.set("result", resultId);
  if (showAll()) params.set("all", "1");
  if (mine()) params.set("mine", "1");
  const response = await fetch(`${root.dataset.panelUrl}?${params}`, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    message(await failure(response), true);
    return;
  }
  swap(await response.json());
}

function move(direction) {
  const url = direction > 0 ? panel().dataset.nextUrl : panel().dataset.prevUrl;
  if (!url) return;
  const resultId = new URL(url, location.href).searchParams.get("result");
  show(resultId);
}

async function post(url, body) {
  if (showAll()) body.set("all", "1");
  if (mine()) body.set("mine", "1");
  const item = document.querySelector(".review-item");
  if (item) item.classList.add("saving");
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    body,
  });
  if (item) item.classList.remove("saving");
  if (!response.ok) {
    message(await failure(response), true);
    return null;
  }
  return response.json();
}

async function save() {
  const form = document.getElementById("review-form");
  if (!form) return;
  const score = document.getElementById("review-score");
  if (score.value.trim() === "" || !score.checkValidity()) {
    message("Give a score from 0 to 100 first (p, f or digits).", true);
    score.focus();
    return;
  }
  const resultId = panel().dataset.resultId;
  const answer = await post(form.action, new URLSearchParams(new FormData(form)));
  if (!answer) return;
  undoStack.push(resultId);
  swap(answer);
  message(`Saved ${answer.saved.score} (was ${answer.saved.previous_score ?? "–"}). u undoes it.`);
}

async function undo() {
  const resultId = undoStack.length ? undoStack[undoStack.length - 1] : null;
  if (!resultId) {
    message("Nothing saved on this page to undo.", true);
    return;
  }
  const base = root.dataset.panelUrl.replace(/\/panel$/, "");
  const answer = await post(`${base}/${resultId}/undo`, new URLSearchParams());
  if (!answer) return;
  undoStack.pop();
  swap(answer);
  message(`Undone: the score is ${answer.saved.score} again.`);
}

function setScore(value) {
  const score = document.getElementById("review-score");
  if (!score) return;
  score.value = value;
  document.getElementById("review-reason").focus();
}

function enhance() {
  for (const button of root.querySelectorAll("[data-set-score]")) {
    button.classList.remove("hidden");
    button.addEventListener("click", () => setScore(button.dataset.setScore));
  }
  const form = document.getElementById("review-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
    });
  }
  const undoForm = document.getElementById("undo-form");
  if (undoForm) {
    undoForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!undoStack.length) undoStack.push(panel().dataset.resultId);
      undo();
    });
  }
  for (const link of root.querySelectorAll("#prev-link, #next-link")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      move(link.id === "next-link" ? 1 : -1);
    });
  }
}

function inField(target) {
  return target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]") !== null;
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || dialog.open) return;
  if (inField(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return; // Enter in a field submits the form, which saves
  }
  const canWrite = panel() && panel().dataset.canWrite === "1" && panel().dataset.resultId;
  const score = document.getElementById("review-score");
  switch (event.key) {
    case "j":
    case "ArrowDown":
    case "ArrowRight":
      move(1);
      break;
    case "k":
    case "ArrowUp":
    case "ArrowLeft":
      move(-1);
      break;
    case "p":
      if (canWrite) setScore(panel().dataset.passScore);
      break;
    case "f":
      if (canWrite) setScore(panel().dataset.failScore);
      break;
    case "r":
      if (canWrite) document.getElementById("review-reason").focus();
      break;
    case "Enter":
      if (canWrite) save();
      break;
    case "u":
      if (canWrite || undoStack.length) undo();
      break;
    case "?":
      dialog.showModal();
      break;
    default:
      if (canWrite && score && /^[0-9]$/.test(event.key)) {
        score.value = event.key;
        score.focus();
      } else {
        return;
      }
  }
  event.preventDefault();
});

const shortcutsButton = document.getElementById("show-shortcuts");
shortcutsButton.classList.remove("hidden");
shortcutsButton.addEventListener("click", () => dialog.showModal());
enhance();
