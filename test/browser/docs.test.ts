import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "#lib/openapi/document.ts";
import { startTestStack, type TestStack } from "#test/helpers/local-stack.ts";
import { DESKTOP, launchChromium, openPage, PHONE } from "./browser.ts";
import { pageWidth } from "./console-stack.ts";

/**
 * GET /docs in a real Chromium against the local stack (README, "API reference"): the page renders
 * every operation of the document it loads from the same origin, under its strict
 * Content-Security-Policy — a blocked inline style or script would be a console error and fail the
 * test — and reads at phone width without scrolling sideways.
 */

let stack: TestStack;
let browser: Browser;
let doc: OpenApiDocument;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchChromium();
  doc = (await (await fetch(`${stack.urls.api}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

/** Operations the page shows: every method but HEAD, which it folds into the GET. */
const operations = () =>
  Object.values(doc.paths).flatMap((methods) => Object.keys(methods).filter((m) => m !== "head"));

describe("GET /docs", () => {
  for (const [name, viewport] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    it(`renders every operation, its examples and the error codes, with no script or CSP error (${name})`, async () => {
      const opened = await openPage(browser, { viewport });
      try {
        const { page, errors } = opened;
        const answer = await page.goto(`${stack.urls.api}/docs`);
        expect(answer?.headers()["content-security-policy"]).toContain("default-src 'none'");
        await page.waitForSelector("article.operation");
        expect(await page.locator("article.operation").count()).toBe(operations().length);
        await expect(page.locator("h1").textContent()).resolves.toContain(doc.info.title);
        // The base URL is the page's own origin, from the relative `servers`.
        await expect(page.locator(".servers code").first().textContent()).resolves.toBe(stack.urls.api);
        const reconcile = page.locator("#postAdminReconcile");
        await expect(reconcile.locator("details.example pre").first().textContent()).resolves.toContain(
          '"dryRun": true',
        );
        await expect(page.locator("#error-codes").textContent()).resolves.toContain("invalid_cursor");
        const { scrollWidth, clientWidth } = await pageWidth(page);
        expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
        expect(errors).toEqual([]);
      } finally {
        await opened.close();
      }
    });
  }

  it("filters the operations by path or words, and opens at the operation the URL names", async () => {
    const opened = await openPage(browser);
    try {
      const { page, errors } = opened;
      await page.goto(`${stack.urls.api}/docs#getAdminReconcileByRunId`);
      await page.waitForSelector("article.operation");
      await expect(page.locator("#getAdminReconcileByRunId").isVisible()).resolves.toBe(true);
      await page.getByLabel("Filter").fill("transfer");
      await expect(page.locator("article.operation").count()).resolves.toBe(1);
      await expect(page.locator("article.operation h3").textContent()).resolves.toContain(
        "/admin/customers/{customerId}/licenses/{connector}/transfer",
      );
      expect(errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
