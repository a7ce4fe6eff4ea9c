import { render } from "preact";
import { describe } from "./api.ts";
import { App } from "./app.tsx";
import { reportGlobalError } from "./components/GlobalErrors.tsx";

window.addEventListener("error", (event) => {
  reportGlobalError(event.message || describe(event.error));
});
window.addEventListener("unhandledrejection", (event) => {
  reportGlobalError(describe(event.reason));
});

const root = document.getElementById("app");
if (root) {
  try {
    render(<App />, root);
  } catch (error) {
    root.textContent = `The console failed to start: ${describe(error)}`;
    root.setAttribute("role", "alert");
  }
}
