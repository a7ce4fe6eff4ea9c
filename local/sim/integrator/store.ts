import type { JsonObject } from "./json.ts";

/** An integrator.io account created through `POST /_sim/users`. */
export interface User {
  _id: string;
  /** Lower-cased: integrator.io matches emails case-insensitively. */
  email: string;
  name?: string;
  token: string;
}

export interface License {
  _id: string;
  _connectorId: string;
  /** Lower-cased; the account it is for may not exist (any more). */
  email: string;
  created: string;
  lastModified: string;
  expires: string;
  opts: JsonObject;
  sandbox: boolean;
  _integrationId?: string;
}

/** A record of an account's data: the document clients see, and the account that owns it. */
export interface Owned {
  owner: string;
  doc: JsonObject;
}

/** An integration; for a SmartConnector install, the license it uses and the edition it runs. */
export interface Integration extends Owned {
  licenseId?: string;
  edition?: string;
}

export interface Stack {
  _id: string;
  name?: string;
  type: "server";
  server: { hostURI: string; systemToken: string };
  lastModified: string;
}

/** The plain JSON resources, stored as given plus `_id` and `lastModified`. */
export const PLAIN_RESOURCES = ["iClients", "connections", "exports", "imports", "flows"] as const;
export type PlainResource = (typeof PLAIN_RESOURCES)[number];

/**
 * Everything the simulator holds, in memory. The vendor (partner) account owns connectors,
 * templates and stacks; licenses hang off connectors; integrations and plain resources belong to
 * the account that created them (for a SmartConnector install, the installing user).
 */
export class SimStore {
  readonly users = new Map<string, User>();
  readonly usersByEmail = new Map<string, User>();
  readonly usersByToken = new Map<string, User>();
  readonly connectors = new Map<string, JsonObject>();
  /** connectorId → licenseId → license, in creation order. */
  readonly licenses = new Map<string, Map<string, License>>();
  readonly templates = new Map<string, JsonObject>();
  readonly stacks = new Map<string, Stack>();
  readonly integrations = new Map<string, Integration>();
  /** State namespace (`account:<id>` or `integrations:<id>`) → key → value. */
  readonly state = new Map<string, Map<string, unknown>>();
  readonly plain = new Map<PlainResource, Map<string, Owned>>(
    PLAIN_RESOURCES.map((kind) => [kind, new Map()]),
  );
  readonly jobs = new Map<string, Owned>();

  constructor(readonly vendorId: string) {}

  addUser(user: User): void {
    this.users.set(user._id, user);
    this.usersByEmail.set(user.email, user);
    this.usersByToken.set(user.token, user);
  }

  licensesOf(connectorId: string): Map<string, License> {
    let licenses = this.licenses.get(connectorId);
    if (!licenses) {
      licenses = new Map();
      this.licenses.set(connectorId, licenses);
    }
    return licenses;
  }

  /** How many licenses exist across every connector. */
  licenseCount(): number {
    let count = 0;
    for (const licenses of this.licenses.values()) count += licenses.size;
    return count;
  }

  findLicense(licenseId: string | undefined): License | undefined {
    if (licenseId === undefined) return undefined;
    for (const licenses of this.licenses.values()) {
      const license = licenses.get(licenseId);
      if (license) return license;
    }
    return undefined;
  }

  plainOf(kind: PlainResource): Map<string, Owned> {
    const records = this.plain.get(kind);
    if (!records) throw new Error(`unknown resource ${kind}`);
    return records;
  }

  stateOf(namespace: string): Map<string, unknown> {
    let values = this.state.get(namespace);
    if (!values) {
      values = new Map();
      this.state.set(namespace, values);
    }
    return values;
  }

  /** `POST /_sim/reset`: drops every account's data; keeps connectors, templates and stacks. */
  reset(): void {
    this.users.clear();
    this.usersByEmail.clear();
    this.usersByToken.clear();
    this.licenses.clear();
    this.integrations.clear();
    this.state.clear();
    for (const records of this.plain.values()) records.clear();
    this.jobs.clear();
  }
}
