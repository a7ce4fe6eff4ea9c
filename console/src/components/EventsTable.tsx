import { date, text } from "../format.ts";
import { href } from "../router.ts";
import { useCan } from "../session.ts";
import type { EventSummary } from "../types.ts";
import { ReplayButton } from "./ReplayButton.tsx";
import { TableWrap } from "./TableWrap.tsx";

/** Inbox events: type, status, why it failed, when; "Replay" for operators. */
export function EventsTable({
  events,
  label,
  showCustomer = true,
  onReplayed,
}: {
  events: EventSummary[];
  label: string;
  showCustomer?: boolean;
  onReplayed?: () => void;
}) {
  const canReplay = useCan("operator");
  return (
    <TableWrap label={label}>
      <table>
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Failure reason</th>
            <th scope="col">Created</th>
            {showCustomer ? <th scope="col">Customer</th> : null}
            <th scope="col">Event</th>
            <th scope="col">Attempts</th>
            {canReplay ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.eventId}>
              <td class="id">{event.type}</td>
              <td>
                <span class={`badge status-${event.status}`}>{event.status}</span>
              </td>
              <td class="wrap">{text(event.error ?? event.reason)}</td>
              <td>{date(event.created)}</td>
              {showCustomer ? (
                <td class="id">
                  {event.customerId ? (
                    <a href={href("customers", event.customerId)}>{event.customerId}</a>
                  ) : (
                    "—"
                  )}
                </td>
              ) : null}
              <td class="id">{event.eventId}</td>
              <td>{text(event.attempts)}</td>
              {canReplay ? (
                <td>
                  {event.status === "ignored" ? (
                    <span class="muted small">ignored events are not processed</span>
                  ) : (
                    <ReplayButton eventId={event.eventId} {...(onReplayed ? { onReplayed } : {})} />
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
