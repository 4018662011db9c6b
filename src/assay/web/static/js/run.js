// The run page while its run goes on: follow /runs/{id}/events, move the progress bar, and when the run
// ends, fetch the page again and swap in its finished summary, charts and results.
// Without JavaScript the page shows the same counts and a Refresh link.

function follow(summary) {
  const url = summary.dataset.eventsUrl;
  if (!url || typeof EventSource === "undefined") return;
  const source = new EventSource(url);
  const bar = document.getElementById("run-progress");
  const counts = document.getElementById("run-live-counts");
  const status = document.getElementById("run-live-status");

  source.addEventListener("progress", (event) => {
    const data = JSON.parse(event.data);
    if (bar) {
      bar.max = Math.max(1, data.total);
      bar.value = data.completed;
      bar.textContent = `${data.completed} of ${data.total}`;
    }
    if (counts) counts.textContent = `${data.completed} of ${data.total} cases done, ${data.errors} errors`;
    if (status) status.textContent = data.status;
  });

  source.addEventListener("end", async () => {
    source.close();
    await refresh();
  });
}

async function refresh() {
  try {
    const answer = await fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html").querySelector("main");
    const current = document.querySelector("main");
    if (!fresh || !current) throw new Error("no page content");
    current.replaceWith(fresh);
    document.dispatchEvent(new CustomEvent("run:refreshed"));
  } catch {
    window.location.reload();
  }
}

const summary = document.getElementById("run-summary");
if (summary) follow(summary);
