import { useState } from "preact/hooks";
import { request, withQuery } from "../api.ts";
import { EventsTable } from "../components/EventsTable.tsx";
import { Show } from "../components/Loaded.tsx";
import { LoadMore } from "../components/LoadMore.tsx";
import { PageHead } from "../components/PageHead.tsx";
import { usePaged } from "../load.ts";
import { href, navigate } from "../router.ts";
import { useTitle } from "../title.ts";
import { type EventSummary, INBOX_STATUSES, type Page } from "../types.ts";

/** `#/events?status=&type=`: the webhook inbox, newest first, filtered; replay from here. */
export function Events({ status, type }: { status: string; type: string }) {
  useTitle("Events");
  const [filters, setFilters] = useState({ status, type });
  const list = usePaged(
    (cursor?: string) => request<Page<EventSummary>>(withQuery("/admin/events", { status, type, cursor })),
    [status, type],
  );
  return (
    <>
      <PageHead onRefresh={list.reload}>Events</PageHead>
      <form
        class="filters"
        aria-label="Filter events"
        onSubmit={(event) => {
          event.preventDefault();
          navigate(href("events", { status: filters.status, type: filters.type.trim() }));
        }}
      >
        <div class="field">
          <label for="events-status">Status</label>
          <select
            id="events-status"
            value={filters.status}
            onChange={(event) => setFilters({ ...filters, status: event.currentTarget.value })}
          >
            <option value="">any</option>
            {INBOX_STATUSES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="events-type">Type</label>
          <input
            id="events-type"
            type="text"
            value={filters.type}
            maxLength={100}
            placeholder="customer.subscription.updated"
            onInput={(event) => setFilters({ ...filters, type: event.currentTarget.value })}
          />
        </div>
        <div class="field">
          <button type="submit">Filter</button>
        </div>
      </form>
      <Show state={list.state} what="events">
        {({ items }) =>
          items.length === 0 ? (
            <p role="status">No events{status || type ? " match these filters" : ""}.</p>
          ) : (
            <EventsTable events={items} label="Events" />
          )
        }
      </Show>
      <LoadMore list={list} />
    </>
  );
}
