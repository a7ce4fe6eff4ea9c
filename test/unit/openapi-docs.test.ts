import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { makeHandler } from "#functions/openapi.ts";
import { functionTable } from "#lib/functions.ts";
import { DOCS_CSP, loadDocsAssets } from "#lib/openapi/docs-assets.ts";
import { routes } from "#lib/routes.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { buildDocsUi } from "../../scripts/build-docs-ui.ts";

/**
 * GET /docs (docs/architecture.md §6): the OpenAPI document rendered by a page whose files are
 * read from disk by the openapi function — never part of its bundle — under a strict
 * Content-Security-Policy: nothing inline, nothing from another origin. The vitest globalSetup
 * builds them into dist/docs, where the local stack serves them from.
 */

const logger = new Logger({ logLevel: "SILENT" });
const handlerFor = (dir: string) => makeHandler({ logger, docsAssets: () => loadDocsAssets(dir) });

describe("GET /docs", () => {
  it("is three routes of the openapi function, which bundles the built page (servesDocs)", () => {
    const docs = routes.filter((r) => r.path === "/docs" || r.path.startsWith("/docs/"));
    expect(docs.map((r) => `${r.method} ${r.path} ${r.function}`)).toEqual([
      "GET /docs openapi",
      "GET /docs/app.js openapi",
      "GET /docs/app.css openapi",
    ]);
    expect(functionTable.openapi.servesDocs).toBe(true);
    expect(functionTable.openapi.access).toEqual({});
  });

  it("serves the page with a strict CSP, its script and style sheet with ETags, and 304 when unchanged", async () => {
    const handler = handlerFor("dist/docs");
    const page = await handler(httpEvent("GET /docs"), lambdaContext);
    expect(page.statusCode).toBe(200);
    expect(page.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers?.["content-security-policy"]).toBe(DOCS_CSP);
    expect(page.headers).toMatchObject({ "x-content-type-options": "nosniff", "x-frame-options": "DENY" });
    for (const [path, type] of [
      ["/docs/app.js", "text/javascript"],
      ["/docs/app.css", "text/css"],
    ] as const) {
      const asset = await handler(httpEvent(`GET ${path}`), lambdaContext);
      expect(asset.statusCode, path).toBe(200);
      expect(String(asset.headers?.["content-type"])).toContain(type);
      const again = await handler(
        httpEvent(`GET ${path}`, { headers: { "if-none-match": String(asset.headers?.etag) } }),
        lambdaContext,
      );
      expect(again.statusCode, path).toBe(304);
    }
  });

  it("answers 503 docs_not_built where the page was not built, and /openapi.json still works", async () => {
    const empty = await mkdtemp(join(tmpdir(), "docs-"));
    try {
      const handler = handlerFor(empty);
      const page = await handler(httpEvent("GET /docs"), lambdaContext);
      expect(page.statusCode).toBe(503);
      expect(JSON.parse(page.body ?? "{}")).toMatchObject({ error: { code: "docs_not_built" } });
      expect((await handler(httpEvent("GET /openapi.json"), lambdaContext)).statusCode).toBe(200);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("allows nothing inline and no other origin, and the built page needs neither", async () => {
    expect(DOCS_CSP).toContain("default-src 'none'");
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).toContain("style-src 'self'");
    expect(DOCS_CSP).toContain("frame-ancestors 'none'");
    expect(DOCS_CSP).not.toMatch(/unsafe|https?:|\*/);
    const out = await mkdtemp(join(tmpdir(), "docs-build-"));
    try {
      const built = await buildDocsUi(out);
      const html = await readFile(join(out, "index.html"), "utf8");
      const js = await readFile(join(out, "app.js"), "utf8");
      const css = await readFile(join(out, "app.css"), "utf8");
      // Only external files of its own, relative to the page: no inline script, style or handler.
      expect([...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1])).toEqual([""]);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      expect(html).toContain('src="docs/app.js"');
      expect(html).toContain('href="docs/app.css"');
      // No CDN, no web font, no other origin; no eval.
      for (const text of [html, js, css]) expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
      expect(css).not.toMatch(/@import|@font-face|url\(/);
      expect(js).not.toMatch(/\beval\(|new Function\(/);
      // The renderer reads the document from this origin, relative to the page.
      expect(js).toContain('"openapi.json"');
      // Small: Preact and the renderer.
      expect(built.sizes["app.js"]).toBeLessThan(40 * 1024);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
