/** How the console writes values: a missing one is "—", dates in the browser's locale with the zone. */

export const DASH = "—";

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
});

export function text(value: unknown): string {
  if (value === undefined || value === null || value === "") return DASH;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** An ISO date-time, or epoch seconds (Stripe's timestamps). */
export function date(value: string | number | null | undefined): string {
  if (value === undefined || value === null || value === "") return DASH;
  const at = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(at.getTime()) ? String(value) : dateTime.format(at);
}

export function yesNo(value: boolean | undefined | null): string {
  if (value === undefined || value === null) return DASH;
  return value ? "yes" : "no";
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A finding's or audit entry's detail: text as it is, anything else as compact JSON. */
export function detail(value: unknown): string {
  if (value === undefined || value === null) return DASH;
  return typeof value === "string" ? value : JSON.stringify(value);
}
