import { describe, expect, it } from "vitest";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import {
  daysAfter,
  FIXED_NOW,
  makeSubscription,
  type SubscriptionInput,
} from "#test/helpers/stripe-fixtures.ts";
import { type CustomerTruth, judgeCustomer, licensesByCustomer, type ObservedLicense } from "./verify.ts";

// The chaos suite is only as good as its judge: each way a license can be lost, doubled or wrong
// must be caught, and what the product rightly does must pass.
const catalog = await loadCatalogFile("local/catalog.json");
const now = FIXED_NOW;
const CUSTOMER = "cus_chaos0001";
const EMAIL = "buyer@example.com";

const truth = (input: SubscriptionInput, metadata: Record<string, string> = {}): CustomerTruth => ({
  customerId: CUSTOMER,
  label: "c00001",
  customer: { id: CUSTOMER, email: EMAIL, metadata },
  subscriptions: [makeSubscription({ customer: CUSTOMER, ...input })],
  emails: [EMAIL, "moved@example.com"],
});
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const license = (fields: Partial<ObservedLicense> = {}): ObservedLicense => ({
  _id: "lic_1",
  email: EMAIL,
  expires: iso(periodEnd + 3 * 86_400),
  opts: { connectorEdition: "standard" },
  ...fields,
});
const judge = (t: CustomerTruth, licenses: ObservedLicense[]) =>
  judgeCustomer(t, licenses, catalog, "shopify-netsuite", now);

// An active monthly standard subscription: period ends 20 days after FIXED_NOW.
const periodEnd = daysAfter(now, 20);
const active = truth({ status: "active", current_period_end: periodEnd });

describe("chaos judgement of one customer", () => {
  it("accepts the one license the rules ask for (same second, any milliseconds)", () => {
    const exact = license({ expires: new Date((periodEnd + 3 * 86_400) * 1000 + 400).toISOString() });
    expect(judge(active, [exact])).toMatchObject({ outcome: "ok", expected: { state: "live" } });
    // A transfer's old license, expired, does not count against it.
    const old = license({ _id: "lic_0", email: "moved@example.com", expires: iso(daysAfter(now, -3)) });
    expect(judge(active, [exact, old]).outcome).toBe("ok");
  });

  it("reports a live license that is missing, or only expired, as lost", () => {
    expect(judge(active, [])).toMatchObject({ outcome: "lost", detail: "no license at all" });
    expect(judge(active, [license({ expires: iso(daysAfter(now, -1)) })]).outcome).toBe("lost");
  });

  it("reports two unexpired licenses as doubled", () => {
    expect(judge(active, [license(), license({ _id: "lic_2" })])).toMatchObject({ outcome: "doubled" });
  });

  it.each([
    ["edition", { opts: { connectorEdition: "premium" } }],
    [
      "add-ons",
      { opts: { connectorEdition: "standard", addonLicenses: [{ type: "store", licenses: [{}] }] } },
    ],
    ["expiry off by a second", { expires: iso(periodEnd + 3 * 86_400 + 1) }],
    ["email", { email: "moved@example.com" }],
  ])("reports a license with the wrong %s as wrong", (_, fields) => {
    expect(judge(active, [license(fields as Partial<ObservedLicense>)]).outcome).toBe("wrong");
  });

  it("wants the email of the subscription metadata and add-ons by quantity", () => {
    const t = truth({
      status: "active",
      current_period_end: periodEnd,
      metadata: { integrator_email: "moved@example.com" },
      items: [{ price: "price_prem_month" }, { price: "price_store_month", quantity: 2 }],
    });
    const right = license({
      email: "moved@example.com",
      opts: {
        connectorEdition: "premium",
        addonLicenses: [
          { type: "store", licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }] },
        ],
      },
    });
    expect(judge(t, [right]).outcome).toBe("ok");
    expect(judge(t, [{ ...right, email: EMAIL }]).outcome).toBe("wrong");
  });

  it("accepts an ended subscription's license expired now or up to an hour later, and nothing running longer", () => {
    const canceled = truth({ status: "canceled" });
    expect(judge(canceled, [])).toMatchObject({ outcome: "ok", expected: { state: "over" } });
    expect(judge(canceled, [license({ expires: iso(daysAfter(now, -2)) })]).outcome).toBe("ok");
    expect(
      judge(canceled, [license({ expires: new Date(now.getTime() + 50 * 60_000).toISOString() })]).outcome,
    ).toBe("ok");
    expect(
      judge(canceled, [license({ expires: new Date(now.getTime() + 70 * 60_000).toISOString() })]).outcome,
    ).toBe("wrong");
    expect(judge(canceled, [license(), license({ _id: "lic_2" })]).outcome).toBe("doubled");
  });

  it("treats a lapsed grace period (past_due, grace over) as over, not live", () => {
    const lapsed = truth({ status: "past_due", current_period_end: daysAfter(now, -20) });
    expect(judge(lapsed, [license({ expires: iso(daysAfter(now, -6)) })])).toMatchObject({
      outcome: "ok",
      expected: { state: "over" },
    });
    expect(judge(lapsed, [license({ expires: iso(daysAfter(now, 8)) })]).outcome).toBe("wrong");
  });

  it("expects no license for a subscription never paid (incomplete)", () => {
    const incomplete = truth({ status: "incomplete" });
    expect(judge(incomplete, []).outcome).toBe("ok");
    expect(judge(incomplete, [license()]).outcome).toBe("wrong");
  });
});

describe("licenses grouped per customer", () => {
  it("assigns licenses through every email of a customer and keeps the rest apart", () => {
    const t = truth({ status: "active" });
    const other = { ...t, customerId: "cus_other", emails: ["other@example.com"] };
    const listed = [
      license({ _id: "a", email: "Buyer@Example.com" }),
      license({ _id: "b", email: "moved@example.com" }),
      license({ _id: "c", email: "other@example.com" }),
      license({ _id: "d", email: "stranger@example.com" }),
    ];
    const { byCustomer, strangers } = licensesByCustomer([t, other], listed);
    expect(byCustomer.get(CUSTOMER)?.map((l) => l._id)).toEqual(["a", "b"]);
    expect(byCustomer.get("cus_other")?.map((l) => l._id)).toEqual(["c"]);
    expect(strangers.map((l) => l._id)).toEqual(["d"]);
  });
});
