import { useEffect, useState } from "preact/hooks";

type Listener = (messages: string[]) => void;
let messages: string[] = [];
let listener: Listener | undefined;

/** Records an error no page caught (a window `error` or an unhandled rejection) to show it. */
export function reportGlobalError(message: string): void {
  messages = [...messages.slice(-2), message];
  listener?.(messages);
}

/** The errors no page caught, as a dismissable alert above the page. */
export function GlobalErrors() {
  const [shown, setShown] = useState(messages);
  useEffect(() => {
    listener = setShown;
    setShown(messages);
    return () => {
      listener = undefined;
    };
  }, []);
  if (shown.length === 0) return null;
  return (
    <div class="alert error global" role="alert">
      <p class="alert-title">Something went wrong.</p>
      <ul>
        {shown.map((message, index) => (
          <li key={index}>{message}</li>
        ))}
      </ul>
      <button
        type="button"
        class="small secondary"
        onClick={() => {
          messages = [];
          setShown([]);
        }}
      >
        Dismiss
      </button>
    </div>
  );
}
