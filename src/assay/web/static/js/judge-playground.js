// The judge playground: run the draft LLM-judge prompt on one recent event without saving, exactly as the
// evaluation would run online, and show the verdict, the reasoning and what it cost.
const playground = document.getElementById("judge-playground");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

function show(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}

async function judge(form, button) {
  const message = document.getElementById("judge-message");
  const result = document.getElementById("judge-result");
  button.disabled = true;
  message.textContent = "Asking the judge…";
  try {
    const body = {
      prompt: form.elements.prompt.value,
      event_uuid: document.getElementById("judge-event").value,
      allows_na: form.elements.allows_na.checked,
      provider: form.elements.provider.value,
      model: form.elements.model.value,
    };
    if (playground.dataset.evaluationId) body.evaluation_id = playground.dataset.evaluationId;
    const answer = await fetch(playground.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const data = await answer.json();
    if (!answer.ok || data.error || !data.result) {
      result.hidden = true;
      message.textContent = `Refused: ${typeof data.error === "string" ? data.error : JSON.stringify(data.detail ?? data)}`;
      return;
    }
    const r = data.result;
    const verdict = r.status !== "completed" ? r.status : r.applicable === false ? "N/A" : r.verdict ? "pass" : "fail";
    show("judge-verdict", r.error ? `${verdict}: ${r.error}` : verdict);
    show("judge-reasoning", r.reasoning || "—");
    show("judge-usage", r.model ? `${r.model} · ${r.input_tokens ?? 0} in, ${r.output_tokens ?? 0} out` : "—");
    show("judge-output", r.output_preview || "—");
    document.getElementById("judge-verdict").dataset.result = verdict;
    result.hidden = false;
    message.textContent = `Event ${r.event_uuid.slice(0, 8)} judged; nothing was saved.`;
  } catch {
    message.textContent = "The playground could not reach the server.";
  } finally {
    button.disabled = false;
  }
}

if (playground) {
  playground.hidden = false;
  const button = document.getElementById("run-judge");
  const form = playground.closest("form");
  if (button && form) button.addEventListener("click", () => judge(form, button));
}
