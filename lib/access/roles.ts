/**
 * Who may do what in the admin API and the console (docs/architecture.md §6): each role may do
 * everything the one before it may. `viewer` reads; `operator` also replays, redrives, transfers
 * and reconciles; `admin` also manages operators. The bootstrap `ADMIN_TOKEN` acts as `admin`.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What an operator name may be: it appears in audit entries, logs and URLs (an id like any other, §6). */
export const OPERATOR_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who a request acts as: a named operator, or `root` (the bootstrap `ADMIN_TOKEN`). */
export interface Principal {
  /** `operator:<name>` or `root`: what audit entries, domain events and log lines name. */
  actor: string;
  role: Role;
  /** The operator's name; absent for root. */
  name?: string;
}

export const ROOT: Principal = { actor: "root", role: "admin" };

export const operatorPrincipal = (name: string, role: Role): Principal => ({
  actor: `operator:${name}`,
  role,
  name,
});
