import { describe, expect, it } from "vitest";
import { cutText } from "#lib/bounded-text.ts";
import { createLogger, MAX_LOG_FIELD_LENGTH } from "#lib/observability/logger.ts";
import { writtenDuring } from "#test/helpers/function-harness.ts";

/** The lines `work` writes to stdout and stderr (errors and warnings go to stderr). */
async function linesOf(work: () => void): Promise<string[]> {
  const written = await writtenDuring(async () => work(), [process.stdout, process.stderr]);
  return written.split("\n").filter(Boolean);
}

describe("log lines", () => {
  const logger = () => createLogger("test", { logLevel: "INFO" });

  it(`cut each field to ${MAX_LOG_FIELD_LENGTH} characters: long text, large objects and errors`, async () => {
    const metadata = Object.fromEntries(Array.from({ length: 15_000 }, (_, i) => [`k${i}`, i]));
    const [line = ""] = await linesOf(() =>
      logger()
        .createChild()
        .error("x".repeat(100_000), {
          detail: "d".repeat(500_000),
          metadata,
          error: new Error("e".repeat(300_000)),
          eventId: "evt_1",
        }),
    );
    expect(line.length).toBeLessThanOrEqual(5 * MAX_LOG_FIELD_LENGTH);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const key of ["message", "detail", "metadata", "error"]) {
      expect(String(parsed[key]).length, key).toBeLessThanOrEqual(MAX_LOG_FIELD_LENGTH);
      expect(String(parsed[key]), key).toMatch(/… \(\d+ more characters\)$/);
    }
    expect(parsed.eventId).toBe("evt_1");
  });

  it("leave small fields as they are, errors formatted as usual", async () => {
    const [line = ""] = await linesOf(() =>
      logger().warn("small", { error: new Error("boom"), n: 1, list: [1, 2] }),
    );
    const parsed = JSON.parse(line) as {
      error: { name: string; message: string };
      n: number;
      list: number[];
    };
    expect(parsed.error).toMatchObject({ name: "Error", message: "boom" });
    expect(parsed.n).toBe(1);
    expect(parsed.list).toEqual([1, 2]);
  });
});

describe("cutText", () => {
  it("keeps a short text whole, and never splits a surrogate pair", () => {
    expect(cutText("short", 100)).toBe("short");
    const cut = cutText(`${"a".repeat(59)}💥💥💥${"b".repeat(100)}`, 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut).toBe(`${"a".repeat(59)}… (${165 - 59} more characters)`);
  });
});
