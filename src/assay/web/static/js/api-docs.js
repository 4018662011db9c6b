// Starts Swagger UI on the page's element (kept out of the page so the CSP needs no inline script).
const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  layout: "BaseLayout",
  presets: [window.SwaggerUIBundle.presets.apis],
});
