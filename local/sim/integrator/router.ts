/** What a handler answers: a status, an optional JSON body and headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler<C> = (ctx: C & { params: Record<string, string> }) => Reply | Promise<Reply>;

interface Route<C> {
  method: string;
  template: string;
  segments: string[];
  handler: Handler<C>;
}

export type Match<C> =
  | { kind: "route"; template: string; handler: Handler<C>; params: Record<string, string> }
  | { kind: "wrong-method"; allowed: string[] }
  | { kind: "none" };

const split = (path: string) => path.split("/").filter((segment) => segment !== "");

/**
 * A method + path-template table (`/v1/connectors/:connectorId/licenses`). The template is also the
 * key of the per-route statistics, so it is what `match` reports.
 */
export class Router<C> {
  private readonly routes: Route<C>[] = [];

  add(method: string, template: string, handler: Handler<C>): this {
    this.routes.push({ method, template, segments: split(template), handler });
    return this;
  }

  match(method: string, pathname: string): Match<C> {
    const segments = split(pathname);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      if (route.method === method)
        return { kind: "route", template: route.template, handler: route.handler, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: "wrong-method", allowed } : { kind: "none" };
  }
}

function matchSegments(template: string[], path: string[]): Record<string, string> | undefined {
  if (template.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of template.entries()) {
    const actual = path[i] ?? "";
    if (part.startsWith(":")) {
      try {
        params[part.slice(1)] = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
    } else if (part !== actual) {
      return undefined;
    }
  }
  return params;
}
