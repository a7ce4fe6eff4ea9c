import { inScope, visibleRecord } from "../access.ts";
import type { ApiRouter } from "../context.ts";
import { accessRestricted } from "../errors.ts";
import { clone } from "../json.ts";
import { pageReply } from "../pagination.ts";

/** The exact-match filters of `GET /v1/jobs` the simulator supports. */
const FILTERS = ["_integrationId", "_flowId", "_exportId", "_importId", "type", "status"] as const;

/** Jobs are read-only through the API; the simulator's control API (`POST /_sim/jobs`) creates them. */
export function registerJobs(router: ApiRouter): void {
  router
    .add("GET", "/v1/jobs", ({ principal, store, query, url }) => {
      const asked = query.get("_integrationId");
      if (principal.kind === "one-time" && asked !== null && asked !== principal.integrationId) {
        throw accessRestricted(`This one-time token is for integration ${principal.integrationId} only.`);
      }
      const jobs = [...store.jobs.values()].filter(
        (job) =>
          inScope(principal, job) &&
          FILTERS.every((filter) => {
            const wanted = query.get(filter);
            return wanted === null || job.doc[filter] === wanted;
          }),
      );
      return pageReply(
        jobs.map((job) => clone(job.doc)),
        query,
        url,
      );
    })
    .add("GET", "/v1/jobs/:jobId", ({ principal, store, params }) => {
      const id = params.jobId ?? "";
      return { status: 200, body: clone(visibleRecord(principal, store.jobs.get(id), "Job", id).doc) };
    });
}
