import { HttpError, notFound } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import type { AdminDeps } from "./deps.ts";
import { eventSummary, peekDeadLetters, type QueueDeps, replayEvent } from "./events.ts";
import { pageLimit } from "./page-limit.ts";
import { createRedriveJob } from "./redrive-job.ts";
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

    // A job (it may outlast the admin function's 29 s): 202 at once, progress at its location.
    "POST /admin/dlq/redrive": async ({ requestId }: RouteInput) => {
      if (!deps.redriveLauncher)
        throw new HttpError(
          503,
          "not_configured",
          "Redrives cannot be started: EVENT_BUS_NAME is not configured.",
        );
      const job = await createRedriveJob(deps.redriveJobs, requestId, deps.ctx.now());
      try {
        await deps.redriveLauncher.launch(job.jobId);
      } catch (error) {
        await deps.redriveJobs.finish(job.jobId, "failed", 0, "the redrive could not be started");
        throw error;
      }
      const location = `/admin/dlq/redrive/${job.jobId}`;
      return { status: 202, body: { jobId: job.jobId, location }, headers: { location } };
    },

    "GET /admin/dlq/redrive/{jobId}": async ({
      params,
    }: RouteInput<unknown, Record<string, string>, { jobId: string }>) => {
      const job = await deps.redriveJobs.get(params.jobId);
      if (!job) throw notFound(`No redrive job ${params.jobId}.`);
      const { requestId: _requestId, ...shown } = job;
      return { body: shown };
    },
  };
}
