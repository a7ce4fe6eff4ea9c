import { ApiError, describe } from "../api.ts";

/** An error in the page: the API's message and its details (`bare`: the message alone), never a blank screen. */
export function ErrorAlert({ error, title, bare }: { error: unknown; title?: string; bare?: boolean }) {
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div class="alert error" role="alert">
      {title ? <p class="alert-title">{title}</p> : null}
      <p>{describe(error)}</p>
      {details.length > 0 ? (
        <ul class="details">
          {details.map((entry, index) => (
            <li key={index}>{detailText(entry)}</li>
          ))}
        </ul>
      ) : null}
      {!bare && error instanceof ApiError && error.status > 0 ? (
        <p class="muted small">
          {error.status} {error.code}
        </p>
      ) : null}
    </div>
  );
}

function detailText(entry: unknown): string {
  if (entry && typeof entry === "object" && "message" in entry) {
    const { path, message } = entry as { path?: unknown; message?: unknown };
    return typeof path === "string" && path ? `${path}: ${String(message)}` : String(message);
  }
  return typeof entry === "string" ? entry : JSON.stringify(entry);
}
