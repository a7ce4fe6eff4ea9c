import type { ConnectorDefinition } from "../types.ts";
import { shopifyNetsuite } from "./shopify-netsuite.ts";

/** The vendor's connector modules: add yours here (its `key` must be a catalog connector's). */
export const connectorModules: ConnectorDefinition[] = [shopifyNetsuite];
