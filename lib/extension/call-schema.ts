import * as z from "zod/mini";

/**
 * The body of `POST /integrator/function` as integrator.io sends it (docs/architecture.md §3.7), for
 * the OpenAPI document. The stack checks it itself (`parseHttpCall`, lib/extension/protocol.ts),
 * answering 422 with the framework's codes, so this schema is documentation, never a validator.
 */
export const extensionCallBody = z.object({
  _connectorId: z.string().check(z.describe("The connector (`_connectorId`) the call is for.")),
  type: z.optional(
    z.nullable(
      z
        .string()
        .check(z.describe("The module object (`installer`, `uninstaller`, `setting`, …); absent: flat.")),
    ),
  ),
  function: z.string().check(z.describe("The function to call.")),
  options: z.record(z.string(), z.unknown()).check(z.describe("The function's options.")),
  maxResponseSize: z.optional(
    z.nullable(
      z.int().check(z.positive(), z.describe("Largest result in bytes (default 5 MiB); more → 422.")),
    ),
  ),
});
