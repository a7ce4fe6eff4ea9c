import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * The browser of the console's tests: the system's Chromium (Debian's `chromium` package), driven
 * by playwright-core. Nothing is ever downloaded: without a Chromium the tests fail and say how to
 * install one.
 */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** `CHROMIUM_PATH`, else the first of the usual places that exists. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `No Chromium found (looked at CHROMIUM_PATH and ${CANDIDATES.join(", ")}): ` +
        "install chromium: apt-get install chromium",
    );
  }
  return found;
}

export function launchChromium(): Promise<Browser> {
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium refuses to start its sandbox as root (CI containers run as root).
    args: asRoot ? ["--no-sandbox"] : [],
  });
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** A page of its own (a fresh context: its own cookies) that records what went wrong in it. */
export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and `console.error` messages, as they came. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A new context at `viewport` whose uncaught script errors and console errors are collected.
 * `allowed` are console error texts a test expects (the browser logs every 4xx answer to a fetch
 * as a console error: a 401 for a wrong token is one the test causes on purpose).
 */
export async function openPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; allowed?: RegExp[] } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP });
  const page = await context.newPage();
  const errors: string[] = [];
  const allowed = options.allowed ?? [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const said = `${message.text()} (${message.location().url})`;
    if ([NO_SESSION_YET, ...allowed].some((pattern) => pattern.test(said))) return;
    errors.push(`console.error: ${said}`);
  });
  return { context, page, errors, close: () => context.close() };
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The browser logs a fetch answered 4xx as a console error ("Failed to load resource: the server
 * responded with a status of 401 ()", then the resource's URL). Those a test causes on purpose — a
 * wrong token, a refused action — are answers the page shows, not script errors: `expectedStatus`
 * names them (and, optionally, the path they come from).
 */
export const expectedStatus = (status: number, path = "") =>
  new RegExp(
    `Failed to load resource: the server responded with a status of ${status}\\b.*\\(http://[^/]+${literal(path)}`,
  );

/** Every page load asks for the session first: without one, the answer is a 401 the console expects. */
const NO_SESSION_YET = expectedStatus(401, "/console/session");
