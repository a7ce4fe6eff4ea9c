import { z } from "zod";

/** Injected misbehaviour of the `/v1` API, set through `PUT /_sim/faults`. */
export interface Faults {
  /** Fraction of requests answered with `status` and an error body, without applying them. */
  errorRate: number;
  status: number;
  /** Delay before answering each request. */
  latencyMs: number;
  /** Fraction of requests that are applied but whose connection is reset instead of answered. */
  dropResponseRate: number;
  /**
   * Every call to a connector's stack is made twice with the same options, as integrator.io does
   * when it retries after losing the stack's answer; the second answer counts.
   */
  repeatStackCalls: boolean;
  /**
   * Fraction of license creates whose answer is lost before the license exists: the connection is
   * reset, and the license is committed `lateCommitMs` later (see late-commits.ts).
   */
  lateCommitRate: number;
  lateCommitMs: number;
}

export const NO_FAULTS: Faults = {
  errorRate: 0,
  status: 500,
  latencyMs: 0,
  dropResponseRate: 0,
  repeatStackCalls: false,
  lateCommitRate: 0,
  lateCommitMs: 2000,
};

/** A PUT sets the whole fault configuration: a field left out goes back to "no fault". */
export const faultsSchema = z.object({
  errorRate: z.number().min(0).max(1).default(NO_FAULTS.errorRate),
  status: z.number().int().min(400).max(599).default(NO_FAULTS.status),
  latencyMs: z.number().int().min(0).max(120_000).default(NO_FAULTS.latencyMs),
  dropResponseRate: z.number().min(0).max(1).default(NO_FAULTS.dropResponseRate),
  repeatStackCalls: z.boolean().default(NO_FAULTS.repeatStackCalls),
  lateCommitRate: z.number().min(0).max(1).default(NO_FAULTS.lateCommitRate),
  lateCommitMs: z.number().int().min(0).max(600_000).default(NO_FAULTS.lateCommitMs),
});

/** The fault decided for one request (drawn once, when it arrives). */
export interface FaultDraw {
  latencyMs: number;
  failWith: number | undefined;
  drop: boolean;
  /** Drawn from `lateCommitRate`: how long a license create holds back its commit; only creates use it. */
  lateCommitMs: number | undefined;
}

export function drawFault(faults: Faults, random: () => number = Math.random): FaultDraw {
  return {
    latencyMs: faults.latencyMs,
    failWith: faults.errorRate > 0 && random() < faults.errorRate ? faults.status : undefined,
    drop: faults.dropResponseRate > 0 && random() < faults.dropResponseRate,
    lateCommitMs:
      faults.lateCommitRate > 0 && random() < faults.lateCommitRate ? faults.lateCommitMs : undefined,
  };
}

const faultCodes: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "access_restricted",
  404: "not_found",
  408: "request_timeout",
  409: "conflict",
  422: "invalid_field",
  429: "rate_limited",
  500: "internal_server_error",
  502: "bad_gateway",
  503: "service_unavailable",
  504: "gateway_timeout",
};

/** The error code an injected failure carries: the one integrator.io uses for that status. */
export const faultCode = (status: number) =>
  faultCodes[status] ?? (status >= 500 ? "internal_server_error" : "error");
