import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Operator, Role } from "./types.ts";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const SessionContext = createContext<Operator>({ name: "", role: "viewer" });

export const useOperator = () => useContext(SessionContext);

/** Whether the signed-in operator holds at least `role` (the API checks again; this only hides buttons). */
export function useCan(role: Role): boolean {
  return RANK[useOperator().role] >= RANK[role];
}
