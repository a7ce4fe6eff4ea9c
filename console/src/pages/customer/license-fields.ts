import { date } from "../../format.ts";

/** The parts of license `opts` the console shows: the edition, the add-ons, anything else. */

export function editionOf(opts: Record<string, unknown> | undefined): string | undefined {
  const edition = opts?.connectorEdition ?? opts?.edition;
  return typeof edition === "string" ? edition : undefined;
}

/** `addonLicenses: [{type, licenses: [{addOnEdition}]}]` → "store ×2 (standard)"; other opts as key: value. */
export function addonsOf(opts: Record<string, unknown> | undefined): string[] {
  if (!opts) return [];
  const lines: string[] = [];
  const groups = opts.addonLicenses;
  if (Array.isArray(groups)) {
    for (const group of groups as { type?: unknown; licenses?: unknown }[]) {
      const licenses = Array.isArray(group.licenses) ? (group.licenses as { addOnEdition?: unknown }[]) : [];
      const editions = [...new Set(licenses.map((l) => String(l.addOnEdition ?? "")).filter(Boolean))];
      lines.push(
        `${String(group.type ?? "add-on")} ×${licenses.length}${editions.length ? ` (${editions.join(", ")})` : ""}`,
      );
    }
  }
  for (const [key, value] of Object.entries(opts)) {
    if (key === "connectorEdition" || key === "edition" || key === "addonLicenses") continue;
    lines.push(`${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  return lines;
}

/** Two expiry dates name the same second (integrator.io may drop milliseconds). */
export function sameExpiry(ours: string, theirs: string): boolean {
  const a = Math.floor(Date.parse(ours) / 1000);
  const b = Math.floor(Date.parse(theirs) / 1000);
  return Number.isFinite(a) ? a === b : ours === theirs;
}

export const expiryText = (value: string | undefined) => date(value);
