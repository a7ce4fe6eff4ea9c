/**
 * The part of the EventBridge client the functions use (PutEvents), for `import()` on first
 * publish: like lib/sdk/secrets-manager.ts, a static re-export esbuild can tree-shake where a
 * dynamic import of the package would bundle every command.
 */
export { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
