import { useEffect, useState } from "preact/hooks";

/** A hash route: `#/customers/cus_1?x=y` → parts ["customers", "cus_1"], query x=y. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const at = text.indexOf("?");
  const path = at === -1 ? text : text.slice(0, at);
  const query = new URLSearchParams(at === -1 ? "" : text.slice(at + 1));
  const parts = path
    .split("/")
    .filter((part) => part !== "")
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  return { parts, query };
}

/** The href of a console page: `href("customers", id)` → `#/customers/<id>`; empty query values are left out. */
export function href(...parts: (string | Record<string, string | undefined>)[]): string {
  const path: string[] = [];
  const params = new URLSearchParams();
  for (const part of parts) {
    if (typeof part === "string") path.push(encodeURIComponent(part));
    else
      for (const [key, value] of Object.entries(part)) {
        if (value !== undefined && value !== "") params.set(key, value);
      }
  }
  const query = params.toString();
  return `#/${path.join("/")}${query ? `?${query}` : ""}`;
}

/** Goes to a page (a new history entry, so Back returns). */
export function navigate(to: string): void {
  if (window.location.hash === to) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = to;
}

/** The current route; follows the hash (links, Back and Forward). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}
