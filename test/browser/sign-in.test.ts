import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApi } from "#test/helpers/admin-api.ts";
import { eventually } from "#test/helpers/local-stack.ts";
import { expectedStatus } from "./browser.ts";
import {
  buyer,
  type ConsoleStack,
  clientSideState,
  fetchInPage,
  pagesPerTest,
  signIn,
  startConsoleStack,
} from "./console-stack.ts";

/**
 * Signing in and out of the console in Chromium, what a viewer may do, and a session that ends
 * under an open page: through the page as a person uses it (labels, roles, buttons).
 */
let consoleStack: ConsoleStack;

beforeAll(async () => {
  consoleStack = await startConsoleStack();
});
afterAll(async () => {
  await consoleStack?.stop();
});

const newPage = pagesPerTest(() => consoleStack.browser);
const WRONG_TOKEN = /wrong or revoked operator token/i;

describe("sign-in", () => {
  it("a wrong token is refused on the sign-in page; the right one signs in, keeping the token nowhere", async () => {
    const { page, context } = await newPage();
    const { consoleUrl, tokens } = consoleStack;
    await page.goto(consoleUrl);
    await page.getByLabel("Operator token").fill("ilop.bm9ib2R5.forged");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(WRONG_TOKEN);
    // Still the sign-in page, and nothing of the console behind it.
    expect(await page.getByLabel("Operator token").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    expect(await page.getByRole("navigation").count()).toBe(0);
    expect(await context.cookies()).toEqual([]);

    await signIn(page, consoleUrl, tokens.support);
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    expect(await page.getByText("support", { exact: true }).isVisible()).toBe(true);

    // The session is an HttpOnly cookie: no script reads it, nothing is stored, the URL holds no token.
    const [cookie, ...others] = await context.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: "il_session", httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie?.value).not.toContain(tokens.support);
    expect(await clientSideState(page)).toEqual({ cookie: "", local: 0, session: 0 });
    expect(page.url()).not.toContain(tokens.support);
    expect(page.url()).not.toMatch(/token/i);
    expect(await page.getByLabel("Operator token").count()).toBe(0);

    // A reload keeps the session (the cookie), and still stores nothing.
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    expect(await clientSideState(page)).toEqual({ cookie: "", local: 0, session: 0 });
  });

  it("signing out ends the session: the page and a reload show the sign-in form", async () => {
    const { page, context } = await newPage();
    const { consoleUrl, tokens } = consoleStack;
    await signIn(page, consoleUrl, tokens.finance);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Operator token").waitFor();
    expect(await page.getByRole("status").first().textContent()).toMatch(/signed out/i);
    expect(await page.getByRole("navigation").count()).toBe(0);
    expect(await context.cookies()).toEqual([]);
    await page.reload();
    await page.getByLabel("Operator token").waitFor();
    expect(await page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
  });

  it("a revoked operator's token is refused on the sign-in page", async () => {
    const { stack, consoleUrl } = consoleStack;
    const made = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "leaver",
      role: "operator",
    });
    expect(made.status).toBe(201);
    expect((await adminApi(stack, "DELETE", "/admin/operators/leaver")).status).toBe(204);
    const { page, context } = await newPage();
    await page.goto(consoleUrl);
    await page.getByLabel("Operator token").fill(made.body.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(WRONG_TOKEN);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    expect(await context.cookies()).toEqual([]);
  });
});

describe("a viewer", () => {
  it("sees a customer's events but no Replay button, and the API refuses the viewer's replay (403)", async () => {
    const { stack, consoleUrl, tokens } = consoleStack;
    const { customer } = await buyer(stack, "viewer-sees");
    const { page } = await newPage({ allowed: [expectedStatus(403, "/admin/events/")] });
    await signIn(page, consoleUrl, tokens.finance);
    await page.goto(`${consoleUrl}#/customers/${customer.id}`);
    const events = page.getByRole("region", { name: "The customer's events" });
    await events.waitFor();
    await eventually(async () => (await events.getByRole("row").count()) > 1, {
      what: "the customer's events in the page",
    });
    const eventId = (await events.getByRole("cell").filter({ hasText: /^evt_/ }).first().textContent()) ?? "";
    expect(eventId).toMatch(/^evt_/);
    expect(await page.getByRole("button", { name: /Replay/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Transfer license/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Reconcile customer" }).count()).toBe(0);

    // The page's own session and CSRF token, as a script in the page would send them: refused.
    expect(await fetchInPage(page, "POST", `/admin/events/${eventId}/replay`)).toBe(403);
  });
});

describe("a session that ends under an open page", () => {
  it("signed out in another browser: the next action goes back to the sign-in page, nothing half-rendered", async () => {
    const { consoleUrl, tokens } = consoleStack;
    const first = await newPage({ allowed: [expectedStatus(401, "/admin/")] });
    const { page } = first;
    await signIn(page, consoleUrl, tokens.support);
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();

    // The same session in another browser (its cookie copied there) signs out.
    const other = await newPage();
    await other.context.addCookies(await first.context.cookies());
    await other.page.goto(consoleUrl);
    await other.page.getByRole("button", { name: "Sign out" }).click();
    await other.page.getByLabel("Operator token").waitFor();
    // The first browser still holds the cookie; the server no longer honours it.
    expect((await first.context.cookies()).map((c) => c.name)).toEqual(["il_session"]);

    // The operator goes on in the first page.
    await page
      .getByRole("navigation", { name: "Console" })
      .getByRole("link", { name: "Events", exact: true })
      .click();
    await page.getByLabel("Operator token").waitFor();
    expect(await page.getByRole("status").first().textContent()).toMatch(/session has ended/i);
    expect(await page.getByRole("navigation").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    expect(await page.getByRole("table").count()).toBe(0);
    expect(await page.getByRole("heading").allTextContents()).toEqual(["Licensing console"]);

    // Signing in again goes on where the operator was.
    await signIn(page, consoleUrl, tokens.support);
    await page.getByRole("heading", { name: "Events", level: 1 }).waitFor();
  });
});
