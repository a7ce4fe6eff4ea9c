import { render } from "preact";
import { App } from "./app.tsx";
import type { Document } from "./types.ts";

/**
 * The API reference page: loads the OpenAPI document from the same origin (`openapi.json`, relative
 * to this page, so a path prefix in front of the API still works) and renders it. No inline code,
 * nothing from another origin: the page's Content-Security-Policy allows neither.
 */
const root = document.getElementById("app");

async function start(into: HTMLElement): Promise<void> {
  into.textContent = "Loading the API's OpenAPI document…";
  const response = await fetch("openapi.json", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`GET openapi.json answered ${response.status}`);
  const doc = (await response.json()) as Document;
  into.textContent = "";
  document.title = `${doc.info.title} — reference`;
  render(<App doc={doc} />, into);
}

if (root) {
  start(root).catch((error: unknown) => {
    root.textContent = `The API reference could not load: ${error instanceof Error ? error.message : String(error)}`;
    root.setAttribute("role", "alert");
  });
}
