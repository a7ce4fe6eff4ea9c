import type { Browser, Page } from "playwright-core";
import { afterEach, expect } from "vitest";
import type { LocalStackOptions } from "#local/stack.ts";
import { adminApi, CONNECTOR, licenseWhere, storeOf, uniqueEmail } from "#test/helpers/admin-api.ts";
import {
  createIntegratorUser,
  eventually,
  integratorApi,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import { type ConsolePage, launchChromium, openPage } from "./browser.ts";

/** The operators every browser test file signs in as (name → role). */
export const OPERATORS = { support: "operator", finance: "viewer" } as const;
export type OperatorName = keyof typeof OPERATORS;

export interface ConsoleStack {
  stack: TestStack;
  browser: Browser;
  /** `http://127.0.0.1:<port>/console`, as `npm start` serves it. */
  consoleUrl: string;
  /** Each operator's token, shown once at creation. */
  tokens: Record<OperatorName, string>;
  stop(): Promise<void>;
}

/** The local stack, its operators (created with ADMIN_TOKEN), and a Chromium. */
export async function startConsoleStack(options: LocalStackOptions = {}): Promise<ConsoleStack> {
  const stack = await startTestStack({}, options);
  try {
    const tokens = {} as Record<OperatorName, string>;
    for (const [name, role] of Object.entries(OPERATORS) as [OperatorName, string][]) {
      const created = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", { name, role });
      if (created.status !== 201) throw new Error(`POST /admin/operators ${name}: ${created.status}`);
      tokens[name] = created.body.token;
    }
    const browser = await launchChromium();
    return {
      stack,
      browser,
      consoleUrl: `${stack.urls.api}/console`,
      tokens,
      stop: async () => {
        await browser.close().catch(() => undefined);
        await stack.stop();
      },
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/**
 * Opens pages for the tests of a file. After each test its pages are closed, and a script error
 * or console error in any of them fails the test.
 */
export function pagesPerTest(browser: () => Browser) {
  let open: ConsolePage[] = [];
  afterEach(async () => {
    const errors = open.flatMap((opened) => opened.errors);
    await Promise.all(open.map((opened) => opened.close().catch(() => undefined)));
    open = [];
    expect(errors, "script or console errors in the test's pages").toEqual([]);
  });
  return async (options: Parameters<typeof openPage>[1] = {}): Promise<ConsolePage> => {
    const opened = await openPage(browser(), options);
    open.push(opened);
    return opened;
  };
}

/** Signs in through the sign-in page as a person does, and waits for the console's header. */
export async function signIn(page: Page, consoleUrl: string, token: string): Promise<void> {
  if (!page.url().startsWith(consoleUrl)) await page.goto(consoleUrl);
  await page.getByLabel("Operator token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/**
 * A buyer as purchase() in test/helpers/admin-api.ts makes one (an integrator.io account, a Stripe
 * customer and subscription), keeping the account's token for an install. Waits for the license
 * unless `waitForLicense` is false.
 */
export async function buyer(stack: TestStack, label: string, { waitForLicense = true } = {}) {
  const email = uniqueEmail(label);
  const user = await createIntegratorUser(stack, email);
  const customer = await stack.stripe.customers.create({ email });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_std_month" }],
  });
  if (waitForLicense) {
    const license = await licenseWhere(stack, email, () => true, `the license of ${email}`);
    const { licenses } = storeOf(stack);
    await eventually(
      async () => (await licenses.get(customer.id, CONNECTOR.key))?.licenseId === license._id,
      {
        what: `the recorded license of ${email}`,
      },
    );
  }
  return { email, user, customer, subscription };
}

/** The buyer installs the connector in integrator.io, which calls the vendor's stack (recorded as an install). */
export async function install(stack: TestStack, userToken: string): Promise<string> {
  const installed = await integratorApi<{ _id: string }>(
    stack,
    "POST",
    `/integrations/${CONNECTOR.id}/install`,
    {},
    userToken,
  );
  expect(installed.status).toBe(201);
  return installed.body._id;
}

/** How wide the page is against its viewport: no horizontal scrolling means scrollWidth ≤ clientWidth. */
export async function pageWidth(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  // The tests' tsconfig has no DOM types: the page's expressions are written as text.
  return page.evaluate<{ scrollWidth: number; clientWidth: number }>(
    "({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })",
  );
}

/** What the page keeps on the client: cookies scripts can read, both storages. */
export async function clientSideState(
  page: Page,
): Promise<{ cookie: string; local: number; session: number }> {
  return page.evaluate<{ cookie: string; local: number; session: number }>(
    "({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length })",
  );
}

/**
 * A call of the admin API from inside the page, as its own script would make it: the session
 * cookie, and the CSRF token the session route gives (`GET /console/session`).
 */
export async function fetchInPage(page: Page, method: string, path: string): Promise<number> {
  return page.evaluate(
    async ({ method, path }) => {
      const session = await fetch("/console/session", { credentials: "same-origin" });
      const { csrfToken } = (await session.json()) as { csrfToken: string };
      const answer = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: { "x-csrf-token": csrfToken },
      });
      return answer.status;
    },
    { method, path },
  );
}
