import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueDefinition } from "#lib/queue/definition.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { adminApi, CONNECTOR, licensesOf, licenseWhere, reconcile } from "#test/helpers/admin-api.ts";
import {
  createIntegratorUser,
  eventually,
  integratorApi,
  simControl,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import { DESKTOP, PHONE } from "./browser.ts";
import {
  buyer,
  type ConsoleStack,
  install,
  pagesPerTest,
  pageWidth,
  signIn,
  startConsoleStack,
} from "./console-stack.ts";

/**
 * What an operator does on a customer's page, in Chromium against the local stack: find the
 * customer by email, see Stripe's subscription, our license and integrator.io's install together,
 * replay an event that failed while integrator.io was down, transfer a license, reconcile.
 */
let consoleStack: ConsoleStack;
let stack: TestStack;

beforeAll(async () => {
  // An event that keeps failing is received 5 times before it dead-letters: a 1 s visibility
  // timeout (the shortest SQS has) brings it back in about a second.
  consoleStack = await startConsoleStack({ visibilityTimeoutSeconds: 1 });
  stack = consoleStack.stack;
});
afterAll(async () => {
  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {}).catch(() => undefined);
  await consoleStack?.stop();
});

const newPage = pagesPerTest(() => consoleStack.browser);

/** A fresh page signed in as the support operator. */
async function supportPage(): Promise<Page> {
  const { page } = await newPage();
  await signIn(page, consoleStack.consoleUrl, consoleStack.tokens.support);
  return page;
}

const customerPage = async (page: Page, customerId: string) => {
  await page.goto(`${consoleStack.consoleUrl}#/customers/${customerId}`);
  await page.getByRole("heading", { name: `Customer ${customerId}`, level: 1 }).waitFor();
  await page.getByRole("heading", { name: "Audit trail" }).waitFor();
};

/** The rows of a table in the region (a `TableWrap`) named `name`, as the cells' texts. */
async function rowsOf(page: Page, name: string): Promise<string[][]> {
  const region = page.getByRole("region", { name, exact: true });
  if ((await region.count()) === 0) return [];
  const rows = await region.getByRole("row").all();
  const texts: string[][] = [];
  for (const row of rows.slice(1)) texts.push(await row.getByRole("cell").allInnerTexts());
  return texts;
}

/** Presses the page's Refresh until `probe` holds (the worker takes a moment after an action). */
async function refreshUntil<T>(page: Page, probe: () => Promise<T | undefined | false>, what: string) {
  return eventually(
    async () => {
      const value = await probe();
      if (value) return value;
      await page.getByRole("button", { name: "Refresh", exact: true }).click();
      await page.getByRole("heading", { name: "Audit trail" }).waitFor();
      return undefined;
    },
    { what, timeoutMs: 45_000, intervalMs: 1000 },
  );
}

const textOf = async (locator: Locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ");

/** Messages in the worker's queue (visible or in flight). */
async function queued(url: string) {
  const { Attributes } = await createSqsClient(stack.config).send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** A customer who bought and installed the connector (made once, shown by several tests). */
let installed: Promise<Awaited<ReturnType<typeof buyer>> & { integrationId: string }> | undefined;
const installedCustomer = () => {
  installed ??= (async () => {
    const bought = await buyer(stack, "console-search");
    return { ...bought, integrationId: await install(stack, bought.user.token) };
  })();
  return installed;
};

describe("search and the customer page", () => {
  it("search by email finds a customer bought through the Stripe simulator; the page shows subscription, license and install", async () => {
    const { email, customer, subscription, integrationId } = await installedCustomer();
    const page = await supportPage();
    // The header's search box, on the overview: type, Enter.
    const box = page.getByRole("searchbox", { name: "Search" });
    await box.fill(email);
    await box.press("Enter");
    await page.getByRole("heading", { name: "Search", level: 1 }).waitFor();
    const results = page.getByRole("region", { name: "Results" });
    await results.getByText(customer.id, { exact: true }).waitFor();
    expect(await textOf(results)).toContain(email);
    expect(await results.getByRole("listitem").count()).toBe(1);

    await results.getByRole("link", { name: new RegExp(customer.id) }).click();
    await page.getByRole("heading", { name: `Customer ${customer.id}`, level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Audit trail" }).waitFor();
    expect(page.url()).toContain(`#/customers/${customer.id}`);

    // Stripe's subscription, our license and integrator.io's install on the one page.
    const [sub] = await rowsOf(page, "Subscriptions");
    expect(sub?.[0]).toBe(subscription.id);
    expect(sub?.[1]).toBe("active");
    expect(sub?.[2]).toContain("price_std_month");
    const [license] = await rowsOf(page, "Licenses");
    expect(license?.[0]).toContain(CONNECTOR.key);
    expect(license?.[1]).toBe("active");
    expect(license?.[2]).toBe(email);
    expect(license?.[6]).toBe("same");
    const [installRow] = await rowsOf(page, "Installs");
    expect(installRow?.[0]).toBe(CONNECTOR.key);
    expect(installRow?.[1]).toContain("installed");
    expect(installRow?.[2]).toBe(email);
    expect(installRow?.[5]).toBe(integrationId);
    const events = await rowsOf(page, "The customer's events");
    expect(events.map((row) => row[0])).toContain("customer.subscription.created");
    expect(events.every((row) => ["processed", "ignored"].includes(row[1] ?? ""))).toBe(true);
  });

  it("a failed event (integrator.io down) is replayed from the customer page, and its license appears", {
    timeout: 180_000,
  }, async () => {
    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 1, status: 503 });
    let outage = true;
    try {
      const { email, customer } = await buyer(stack, "console-replay", { waitForLicense: false });
      // Every receive of each of its events fails until the event dead-letters: failed for good.
      // (The DLQ listing shows one message per customer — a FIFO group — so the inbox tells.)
      await eventually(
        async () => {
          const view = await adminApi<{ events: { type: string; status: string; attempts?: number }[] }>(
            stack,
            "GET",
            `/admin/customers/${customer.id}`,
          );
          const events = view.body.events ?? [];
          const settled = (e: (typeof events)[number]) =>
            e.status === "processed" ||
            e.status === "ignored" ||
            (e.status === "failed" && (e.attempts ?? 0) >= queueDefinition.maxReceiveCount);
          return (
            events.some((e) => e.type === "customer.subscription.created" && e.status === "failed") &&
            events.every(settled) &&
            (await queued(stack.queueUrl)) === 0
          );
        },
        { what: "the customer's failed events dead-lettered", timeoutMs: 120_000, intervalMs: 500 },
      );
      await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
      outage = false;
      expect(await licensesOf(stack, email)).toEqual([]);

      const page = await supportPage();
      await customerPage(page, customer.id);
      // No license yet: none, or one whose create's answer the outage lost (creating, answer_lost).
      const before = await rowsOf(page, "Licenses");
      expect(before.filter((row) => !row[1]?.startsWith("creating"))).toEqual([]);
      // integrator.io holds nothing to compare it with: not "same".
      expect(before.map((row) => row[6])).not.toContain("same");
      const failed = page
        .getByRole("region", { name: "The customer's events" })
        .getByRole("row")
        .filter({ hasText: "customer.subscription.created" });
      expect(await failed.count()).toBe(1);
      const [, status, reason] = await failed.getByRole("cell").allInnerTexts();
      expect(status).toBe("failed");
      expect(reason).not.toBe("—");

      await failed.getByRole("button", { name: /^Replay/ }).click();
      await failed.getByText("Queued again.").waitFor();
      const license = await refreshUntil(
        page,
        async () => (await rowsOf(page, "Licenses")).find((row) => row[1] === "active"),
        "the replayed event's license in the page",
      );
      expect(license[2]).toBe(email);
      await licenseWhere(stack, email, () => true, "the license in integrator.io");
      await refreshUntil(
        page,
        async () =>
          (await rowsOf(page, "The customer's events")).find(
            (row) => row[0] === "customer.subscription.created" && row[1] === "processed",
          ),
        "the replayed event processed",
      );
    } finally {
      if (outage) await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
    }
  });

  it("a transfer from the console moves the license, and the audit trail names the operator", async () => {
    const { email, customer } = await buyer(stack, "console-transfer-from");
    const to = `console-transfer-to-${customer.id.slice(-6).toLowerCase()}@example.com`;
    await createIntegratorUser(stack, to);
    const page = await supportPage();
    await customerPage(page, customer.id);
    await page.getByRole("button", { name: /^Transfer license/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("New email").fill(to);
    await dialog.getByRole("button", { name: "Continue" }).click();
    // The confirmation names both emails before anything moves.
    const question = await textOf(dialog);
    expect(question).toContain(email);
    expect(question).toContain(to);
    expect(await licensesOf(stack, to)).toEqual([]);
    await dialog.getByRole("button", { name: "Confirm transfer" }).click();
    await page.getByText(`Moved to ${to}`).waitFor();
    expect(await dialog.count()).toBe(0);

    await licenseWhere(stack, to, () => true, "the license on the new email in integrator.io");
    const [old] = await licensesOf(stack, email);
    expect(Date.parse(old?.expires ?? "")).toBeLessThanOrEqual(Date.now());
    const [license] = await refreshUntil(
      page,
      async () => {
        const rows = await rowsOf(page, "Licenses");
        return rows[0]?.[2] === to && rows;
      },
      "the moved license in the page",
    );
    expect(license?.[1]).toBe("active");
    const audit = await refreshUntil(
      page,
      async () => {
        const rows = await rowsOf(page, "Audit trail");
        return rows.some((row) => row[3] === "operator:support") && rows;
      },
      "an audit entry by operator:support",
    );
    expect(audit.filter((row) => row[3] === "operator:support").map((row) => row[1])).toContain(
      "admin.transfer",
    );
    expect(await page.getByText("operator:support").first().isVisible()).toBe(true);
  });

  it("a dry-run reconcile shows a license deleted in integrator.io, and Repair recreates it", async () => {
    const { email, customer } = await buyer(stack, "console-reconcile");
    const [before] = await licensesOf(stack, email);
    const deleted = await integratorApi(
      stack,
      "DELETE",
      `/connectors/${CONNECTOR.id}/licenses/${before?._id}`,
    );
    expect(deleted.status).toBe(204);
    const page = await supportPage();
    await customerPage(page, customer.id);
    const [ours] = await rowsOf(page, "Licenses");
    expect(ours?.[6]).toBe("missing in integrator.io");

    await page.getByRole("button", { name: "Reconcile customer" }).click();
    await page.getByText(/^Dry run: 1 finding\.$/).waitFor();
    const findings = await rowsOf(page, "Findings of the dry run");
    expect(findings).toHaveLength(1);
    expect(findings[0]?.[0]).toBe("missing");
    expect(findings[0]?.[1]).toBe(CONNECTOR.key);
    // A dry run changes nothing.
    expect(await licensesOf(stack, email)).toEqual([]);

    await page.getByRole("button", { name: "Repair" }).click();
    await page.getByText(/^Repaired 1 finding\.$/).waitFor();
    const [after] = await licensesOf(stack, email);
    expect(after?._id).toBeDefined();
    expect(after?._id).not.toBe(before?._id);
    const [license] = await refreshUntil(
      page,
      async () => {
        const rows = await rowsOf(page, "Licenses");
        return rows[0]?.[6] === "same" && rows;
      },
      "the license the same in integrator.io",
    );
    expect(license?.[1]).toBe("active");
    expect(license?.[0]).toContain(after?._id ?? "?");
  });
});

describe("readable, and usable with the keyboard", () => {
  it("no horizontal scrolling at 1280×800 or 390×844 on the overview and a customer's page", async () => {
    const { customer } = await installedCustomer();
    for (const viewport of [DESKTOP, PHONE]) {
      const { page } = await newPage({ viewport });
      await signIn(page, consoleStack.consoleUrl, consoleStack.tokens.support);
      await page.getByRole("heading", { name: "Licenses by state" }).waitFor();
      const size = `${viewport.width}×${viewport.height}`;
      const overview = await pageWidth(page);
      expect(overview.scrollWidth, `overview at ${size}`).toBeLessThanOrEqual(overview.clientWidth);
      await customerPage(page, customer.id);
      const view = await pageWidth(page);
      expect(view.scrollWidth, `customer page at ${size}`).toBeLessThanOrEqual(view.clientWidth);
    }
  });

  it("Tab reaches the search box and Enter runs the search", async () => {
    const { email, customer } = await installedCustomer();
    const page = await supportPage();
    await page.getByRole("heading", { name: "Licenses by state" }).waitFor();
    const box = page.getByRole("searchbox", { name: "Search" });
    const focusedBox = box.and(page.locator(":focus"));
    for (let presses = 0; presses < 30 && (await focusedBox.count()) === 0; presses += 1) {
      await page.keyboard.press("Tab");
    }
    expect(await focusedBox.count(), "the search box, reached with Tab").toBe(1);
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    const results = page.getByRole("region", { name: "Results" });
    await results.getByText(customer.id, { exact: true }).waitFor();
    expect(page.url()).toContain("#/search?q=");
  });
});

describe("screenshots for the README", () => {
  // Taken on every run; written to docs/screenshots only on purpose: UPDATE_SCREENSHOTS=1 npm run test:browser.
  const target = (name: string) =>
    process.env.UPDATE_SCREENSHOTS === "1" ? { path: fileURLToPath(new URL(name, SCREENSHOTS)) } : {};
  it("takes the overview and a customer's page at 1280×800 (for docs/screenshots)", async () => {
    const { customer } = await installedCustomer();
    // The overview shows the last reconcile run: a dry run, as an operator starts one.
    await reconcile(stack, true);
    await mkdir(SCREENSHOTS, { recursive: true });
    const page = await supportPage();
    await page.getByRole("heading", { name: "Licenses by state" }).waitFor();
    await page.getByRole("heading", { name: "Last reconcile run" }).waitFor();
    const overview = await page.screenshot(target("overview.png"));
    expect(overview.length).toBeGreaterThan(10_000);
    await customerPage(page, customer.id);
    const view = await page.screenshot(target("customer.png"));
    expect(view.length).toBeGreaterThan(10_000);
  });
});

const SCREENSHOTS = new URL("../../docs/screenshots/", import.meta.url);
