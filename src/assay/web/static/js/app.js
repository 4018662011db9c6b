// Behaviour every page shares. Pages work without it; it only adds conveniences.

// <form data-confirm="Delete this case?"> asks before submitting.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// <select data-autosubmit> submits its form on change (the form also has a submit button for no-JS use).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.dataset.autosubmit !== undefined && field.form) {
    field.form.requestSubmit();
  }
});

// <button data-copy="text"> copies its text to the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1200);
  } catch {
    window.prompt("Copy:", button.dataset.copy);
  }
});

/** The session's CSRF token, for fetch() calls that change state (sent as X-CSRF-Token). */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}
