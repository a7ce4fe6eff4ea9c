import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random base62 text, the alphabet of Stripe's ids. */
export function randomToken(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      // 248 = 4 × 62: accepting larger bytes would skew the distribution.
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** A Stripe-style id: `cus_` + 14 base62 characters (Checkout session ids are longer, as on Stripe). */
export function newId(prefix: string): string {
  return `${prefix}_${randomToken(prefix === "cs_test" ? 58 : 14)}`;
}
