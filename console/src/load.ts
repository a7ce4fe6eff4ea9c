import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export type Loaded<T> =
  | { status: "loading" }
  | { status: "error"; error: unknown }
  | { status: "done"; data: T; reloading: boolean };

/**
 * Loads data for a page: `loading`, then `done` or `error`. `reload()` loads again keeping what is
 * shown; an answer that arrives after a newer request (or after the page changed) is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: "loading" });
  const latest = useRef(0);
  const run = useCallback((keep: boolean) => {
    const id = ++latest.current;
    setState((previous) =>
      keep && previous.status === "done" ? { ...previous, reloading: true } : { status: "loading" },
    );
    load().then(
      (data) => {
        if (latest.current === id) setState({ status: "done", data, reloading: false });
      },
      (error: unknown) => {
        if (latest.current === id) setState({ status: "error", error });
      },
    );
  }, deps);
  useEffect(() => {
    run(false);
    return () => {
      latest.current += 1;
    };
  }, [run]);
  return [state, useCallback(() => run(true), [run])];
}

/** An action's progress: idle, running, its result or its error. */
export type Action<T> =
  | { status: "idle" }
  | { status: "running" }
  | { status: "done"; data: T }
  | { status: "error"; error: unknown };

export function useAction<A extends unknown[], T>(
  act: (...args: A) => Promise<T>,
): [Action<T>, (...args: A) => Promise<T | undefined>, () => void] {
  const [state, setState] = useState<Action<T>>({ status: "idle" });
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  const run = async (...args: A) => {
    setState({ status: "running" });
    try {
      const data = await act(...args);
      if (alive.current) setState({ status: "done", data });
      return data;
    } catch (error) {
      if (alive.current) setState({ status: "error", error });
      return undefined;
    }
  };
  return [state, run, () => setState({ status: "idle" })];
}

/** A list read a page at a time: the items so far and the cursor of the next page. */
export interface Paged<T> {
  items: T[];
  nextCursor: string | undefined;
}

export interface PagedList<T> {
  state: Loaded<Paged<T>>;
  /** Loads the next page and appends it. */
  more: () => void;
  moreState: Action<null>;
  /** Loads the first page again (the newest items), dropping the pages loaded after it. */
  reload: () => void;
}

export function usePaged<T>(
  load: (cursor?: string) => Promise<{ data: T[]; nextCursor?: string }>,
  deps: unknown[],
): PagedList<T> {
  const [state, setState] = useState<Loaded<Paged<T>>>({ status: "loading" });
  const [moreState, setMoreState] = useState<Action<null>>({ status: "idle" });
  const latest = useRef(0);
  const first = useCallback((keep: boolean) => {
    const id = ++latest.current;
    setMoreState({ status: "idle" });
    setState((previous) =>
      keep && previous.status === "done" ? { ...previous, reloading: true } : { status: "loading" },
    );
    load().then(
      (page) => {
        if (latest.current === id)
          setState({
            status: "done",
            data: { items: page.data, nextCursor: page.nextCursor },
            reloading: false,
          });
      },
      (error: unknown) => {
        if (latest.current === id) setState({ status: "error", error });
      },
    );
  }, deps);
  useEffect(() => {
    first(false);
    return () => {
      latest.current += 1;
    };
  }, [first]);

  const more = () => {
    if (state.status !== "done" || !state.data.nextCursor || moreState.status === "running") return;
    const id = latest.current;
    const cursor = state.data.nextCursor;
    setMoreState({ status: "running" });
    load(cursor).then(
      (page) => {
        if (latest.current !== id) return;
        setState((previous) =>
          previous.status === "done"
            ? {
                ...previous,
                data: { items: [...previous.data.items, ...page.data], nextCursor: page.nextCursor },
              }
            : previous,
        );
        setMoreState({ status: "idle" });
      },
      (error: unknown) => {
        if (latest.current === id) setMoreState({ status: "error", error });
      },
    );
  };
  return { state, more, moreState, reload: useCallback(() => first(true), [first]) };
}
