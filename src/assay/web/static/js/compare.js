// The comparison page: picking another run compares at once (the Compare button does the same without JavaScript).
const form = document.getElementById("compare-pick");
if (form) {
  for (const select of form.querySelectorAll("select")) {
    select.addEventListener("change", () => form.requestSubmit());
  }
}
