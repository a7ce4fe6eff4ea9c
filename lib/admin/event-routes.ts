import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import type { AdminDeps } from "./deps.ts";
import { eventSummary, peekDeadLetters, type QueueDeps, redriveDeadLetters, replayEvent } from "./events.ts";
import { pageLimit } from "./page-limit.ts";
import type { EventListQuery } from "./schemas.ts";

/** The webhook inbox and the dead-letter queue: list, replay, redrive. */
export function eventRoutes(deps: AdminDeps): Record<string, RouteHandler> {
  const queue: QueueDeps = {
    inbox: deps.ctx.inbox,
    audit: deps.ctx.audit,
    sqs: deps.sqs,
    queueUrl: deps.queueUrl,
    dlqUrl: deps.dlqUrl,
  };
  return {
    "GET /admin/events": async ({ query }: RouteInput<unknown, EventListQuery>) => {
      const scope = { list: "events", filters: { status: query.status, type: query.type } };
      const cursor = deps.cursors.read(scope, query.cursor);
      const page = await deps.ctx.inbox.list({
        ...(query.status ? { status: query.status } : {}),
        ...(query.type ? { type: query.type } : {}),
        limit: pageLimit(query.limit),
        ...(cursor ? { cursor } : {}),
      });
      const nextCursor = deps.cursors.issue(scope, page.nextCursor);
      return { body: { data: page.items.map(eventSummary), ...(nextCursor ? { nextCursor } : {}) } };
    },

    "POST /admin/events/{eventId}/replay": async ({
      params,
      requestId,
    }: RouteInput<unknown, Record<string, string>, { eventId: string }>) => ({
      status: 202,
      body: await replayEvent(params.eventId, queue, requestId),
    }),

    "GET /admin/dlq": async ({ query }: RouteInput<unknown, { limit?: number }>) => ({
      body: await peekDeadLetters(queue, pageLimit(query.limit, 100)),
    }),

    "POST /admin/dlq/redrive": async ({ requestId }: RouteInput) => ({
      status: 202,
      body: { count: await redriveDeadLetters(queue, requestId) },
    }),
  };
}
