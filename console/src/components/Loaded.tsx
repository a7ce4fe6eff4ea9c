import type { ComponentChildren } from "preact";
import type { Loaded } from "../load.ts";
import { ErrorAlert } from "./ErrorAlert.tsx";

export function Loading({ what }: { what?: string }) {
  return (
    <p class="loading" role="status">
      {what ? `Loading ${what}…` : "Loading…"}
    </p>
  );
}

/** Shows "Loading…", the error, or the data as `children` renders it. */
export function Show<T>({
  state,
  what,
  children,
}: {
  state: Loaded<T>;
  what?: string;
  children: (data: T) => ComponentChildren;
}) {
  if (state.status === "loading") return <Loading {...(what ? { what } : {})} />;
  if (state.status === "error") return <ErrorAlert error={state.error} />;
  return <>{children(state.data)}</>;
}
