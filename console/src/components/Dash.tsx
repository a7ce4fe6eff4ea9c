import { DASH } from "../format.ts";

/** A value, or "—" when there is none. */
export function Dash({ value }: { value: string | number | null | undefined }) {
  return <>{value === undefined || value === null || value === "" ? DASH : String(value)}</>;
}
