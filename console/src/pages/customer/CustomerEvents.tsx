import { EventsTable } from "../../components/EventsTable.tsx";
import type { EventSummary } from "../../types.ts";

export function CustomerEvents({ events, onReplayed }: { events: EventSummary[]; onReplayed: () => void }) {
  return (
    <section aria-labelledby="customer-events">
      <h2 id="customer-events">Events</h2>
      {events.length === 0 ? (
        <p>No events in the inbox for this customer.</p>
      ) : (
        <EventsTable
          events={events}
          label="The customer's events"
          onReplayed={onReplayed}
          showCustomer={false}
        />
      )}
    </section>
  );
}
