import { type Table, withoutKeys } from "./dynamo.ts";

export type RedriveJobState = "running" | "done" | "failed";

/** A dead-letter redrive (POST /admin/dlq/redrive): it runs past the admin API's 29 s, so it is a job. */
export interface RedriveJob {
  jobId: string;
  state: RedriveJobState;
  /** Messages moved back to the event queue so far. */
  moved: number;
  /** Who asked (`operator:<name>` or `root`): the job's audit entries name them. */
  requestedBy?: string;
  /** The admin request that asked: its audit entries' cause (`admin:<requestId>`). */
  requestId: string;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

/** Jobs are kept 7 days (TTL). */
const RETENTION_SECONDS = 7 * 86_400;
const jobKey = (jobId: string) => `REDRIVE#${jobId}`;

/** The redrive jobs: one item each, updated as messages move. */
export class RedriveJobs {
  constructor(private readonly table: Table) {}

  async create(
    job: Pick<RedriveJob, "jobId" | "requestedBy" | "requestId" | "startedAt">,
  ): Promise<RedriveJob> {
    const record: RedriveJob = { ...job, state: "running", moved: 0 };
    await this.table.put(
      {
        pk: jobKey(job.jobId),
        sk: "JOB",
        ttl: Math.floor(this.table.now() / 1000) + RETENTION_SECONDS,
        ...record,
      },
      { ConditionExpression: "attribute_not_exists(pk)" },
    );
    return record;
  }

  async get(jobId: string): Promise<RedriveJob | undefined> {
    const item = await this.table.get(jobKey(jobId), "JOB");
    return item ? withoutKeys<RedriveJob>(item) : undefined;
  }

  /** The count moved so far. */
  async progress(jobId: string, moved: number): Promise<void> {
    await this.table.update({
      Key: { pk: jobKey(jobId), sk: "JOB" },
      UpdateExpression: "SET moved = :moved",
      ExpressionAttributeValues: { ":moved": moved },
    });
  }

  async finish(jobId: string, state: "done" | "failed", moved: number, error?: string): Promise<void> {
    await this.table.update({
      Key: { pk: jobKey(jobId), sk: "JOB" },
      UpdateExpression: `SET #state = :state, moved = :moved, finishedAt = :now${error ? ", #error = :error" : ""}`,
      ExpressionAttributeNames: { "#state": "state", ...(error ? { "#error": "error" } : {}) },
      ExpressionAttributeValues: {
        ":state": state,
        ":moved": moved,
        ":now": new Date(this.table.now()).toISOString(),
        ...(error ? { ":error": error } : {}),
      },
    });
  }
}
