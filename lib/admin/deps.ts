import type { Logger } from "@aws-lambda-powertools/logger";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { AdminAccess } from "#lib/access/access.ts";
import { Operators } from "#lib/access/operators.ts";
import { Sessions } from "#lib/access/sessions.ts";
import type { Config } from "#lib/config.ts";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import { type PageCursors, pageCursorsOf } from "#lib/http/page-cursor.ts";
import type { RunLauncher } from "#lib/reconcile/launcher.ts";
import type { ReconcileDeps } from "#lib/reconcile/run.ts";
import { createReconcileDeps, createRunLauncher } from "#lib/reconcile/wiring.ts";
import type { Environment } from "#lib/runtime.ts";
import type { Leases } from "#lib/store/leases.ts";
import type { ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { RedriveJobs } from "#lib/store/redrive-jobs.ts";
import { createRedriveLauncher, queueDepsOf, type RedriveLauncher } from "./redrive-job.ts";

/** Installs of a customer, supplied by the extension's install store once it is wired in. */
export interface CustomerInstalls {
  forCustomer(customerId: string): Promise<Record<string, unknown>[]>;
}

/** What the admin API's route groups (lib/admin/*-routes.ts) share. */
export interface AdminDeps {
  ctx: ProvisioningContext;
  reconcile: ReconcileDeps;
  runs: ReconcileRuns;
  /** The repair lease of reconcile runs, and one per license being transferred. */
  leases: Leases;
  /** Where requested reconcile runs go; undefined in Lambda without an event bus (503). */
  launcher: RunLauncher | undefined;
  /** Dead-letter redrive jobs, and where they run (lib/admin/redrive-job.ts); undefined as `launcher`. */
  redriveJobs: RedriveJobs;
  redriveLauncher: RedriveLauncher | undefined;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  config: Config;
  /** Who may call the admin routes: ADMIN_TOKEN (root), operators' tokens, console sessions. */
  access: AdminAccess;
  operators: Operators;
  /** Console sessions; undefined without CONSOLE_SESSION_KEY (sign-in answers 503). */
  sessions: Sessions | undefined;
  /** The cursors of the admin lists (licenses, events, reconcile runs, installs). */
  cursors: PageCursors;
  installs?: CustomerInstalls;
  logger: Logger;
}

export async function createAdminDeps(environment: Environment, logger: Logger): Promise<AdminDeps> {
  const reconcile = await createReconcileDeps(environment, logger, "admin", "interactive");
  const { table } = reconcile.ctx;
  const operators = new Operators(table);
  const redriveJobs = new RedriveJobs(table);
  const { secrets } = environment;
  // Keys and tokens are read at each use (lib/secrets.ts): a rotated one takes over within maxAge.
  const sessions = secrets.has("CONSOLE_SESSION_KEY")
    ? new Sessions(table, () => secrets.get("CONSOLE_SESSION_KEY"))
    : undefined;
  return {
    ctx: reconcile.ctx,
    reconcile,
    runs: reconcile.runs,
    leases: reconcile.leases,
    launcher: createRunLauncher(environment, logger),
    redriveJobs,
    redriveLauncher: createRedriveLauncher(environment, {
      jobs: redriveJobs,
      queue: queueDepsOf(reconcile, environment.config.dlqUrl),
      logger,
    }),
    sqs: reconcile.sqs,
    queueUrl: environment.config.queueUrl,
    dlqUrl: environment.config.dlqUrl,
    config: environment.config,
    access: new AdminAccess({
      rootToken: secrets.has("ADMIN_TOKEN") ? () => secrets.get("ADMIN_TOKEN") : undefined,
      operators,
      sessions,
    }),
    operators,
    sessions,
    cursors: pageCursorsOf(secrets),
    logger,
  };
}
