import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import { CfnIPSet, CfnWebACL } from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";
import type { RouteDefinition } from "../lib/routes.ts";
import { STRIPE_WEBHOOK_IPS } from "./stripe-webhook-ips.ts";

/** CloudFront's web ACLs live in us-east-1, whatever the region of the API. */
export const EDGE_WAF_REGION = "us-east-1";

/** Requests one address may make in 5 minutes to the routes anyone may call (about 3 a second). */
export const DEFAULT_RATE_PER_IP_PER_5_MIN = 1000;

/** WAF's bounds on a rate-based rule's limit (requests per evaluation window), inclusive. */
export const RATE_PER_IP_BOUNDS = { min: 10, max: 2_000_000_000 } as const;

const validRate = (rate: number) =>
  Number.isInteger(rate) && rate >= RATE_PER_IP_BOUNDS.min && rate <= RATE_PER_IP_BOUNDS.max;
const rateProblem = (name: string, value: string) =>
  `${name}: "${value}" is not a whole number of requests per address in 5 minutes from ` +
  `${RATE_PER_IP_BOUNDS.min} to ${RATE_PER_IP_BOUNDS.max.toLocaleString("en-US")} (WAF's limits), e.g. ${DEFAULT_RATE_PER_IP_PER_5_MIN}`;

/** The per-address rate from context (e.g. `1000`); anything WAF would refuse at deploy fails the synth. */
export function parseRatePerIp(name: string, value: string): number {
  const rate = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!validRate(rate)) throw new Error(rateProblem(name, value));
  return rate;
}

export interface EdgeWafStackProps extends StackProps {
  routes: readonly RouteDefinition[];
  ratePerIpPer5Min?: number;
}

type Statement = CfnWebACL.StatementProperty;

/**
 * A path as API Gateway would route it: decoded, `//` and `/./` collapsed, and in lower case, so
 * `/Webhooks//%73tripe` is the webhook too.
 */
const pathStartsWith = (path: string): Statement => {
  if (path.includes("{")) throw new Error(`the edge matches fixed paths only, not ${path}`);
  return {
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: "STARTS_WITH",
      searchString: path.toLowerCase(),
      textTransformations: [
        { priority: 0, type: "URL_DECODE" },
        { priority: 1, type: "NORMALIZE_PATH" },
        { priority: 2, type: "LOWERCASE" },
      ],
    },
  };
};
const anyOf = (statements: Statement[]): Statement =>
  statements.length === 1 ? (statements[0] as Statement) : { orStatement: { statements } };
const not = (statement: Statement): Statement => ({ notStatement: { statement } });
const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

/**
 * The edge's web ACL (`-c edge=true`), in us-east-1 as CloudFront requires; its ARN goes to the
 * product stack as `-c webAclArn=...` (docs/decisions.md). Three rules, in order:
 * 1. the Stripe webhook route answers only Stripe's published webhook addresses;
 * 2. a per-address rate limit on every route anyone may call (all but Stripe's and integrator.io's,
 *    which have their own route budgets and callers that send in bulk);
 * 3. AWS's common rule set on those same routes (its 8 KB body rule only counts: the route table's
 *    body limits answer 413 themselves).
 */
export class EdgeWafStack extends Stack {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeWafStackProps) {
    const ratePerIp = props.ratePerIpPer5Min ?? DEFAULT_RATE_PER_IP_PER_5_MIN;
    if (!validRate(ratePerIp)) throw new Error(rateProblem("ratePerIpPer5Min", String(ratePerIp)));
    super(scope, id, { ...props, env: { ...props.env, region: EDGE_WAF_REGION } });
    const webhookPaths = props.routes.filter((r) => r.auth === "stripe").map((r) => r.path);
    // Callers with their own route budget: Stripe (signed) and integrator.io (system token).
    const ownBudgetPaths = props.routes
      .filter((r) => r.auth === "stripe" || r.auth === "system")
      .map((r) => r.path);
    const anyoneMayCall = not(anyOf(ownBudgetPaths.map(pathStartsWith)));

    const stripeAddresses = new CfnIPSet(this, "StripeWebhookAddresses", {
      // CloudFormation's pattern for descriptions takes no "_", so no URL of Stripe's here.
      description: "Addresses Stripe sends webhooks from, as listed in cdk/stripe-webhook-ips.ts",
      scope: "CLOUDFRONT",
      ipAddressVersion: "IPV4",
      addresses: STRIPE_WEBHOOK_IPS.map((ip) => `${ip}/32`),
    });

    const rules: CfnWebACL.RuleProperty[] = [];
    if (webhookPaths.length > 0) {
      rules.push({
        name: "StripeWebhookFromStripeOnly",
        priority: rules.length,
        action: { block: {} },
        statement: {
          andStatement: {
            statements: [
              anyOf(webhookPaths.map(pathStartsWith)),
              not({ ipSetReferenceStatement: { arn: stripeAddresses.attrArn } }),
            ],
          },
        },
        visibilityConfig: visibility("StripeWebhookFromStripeOnly"),
      });
    }
    rules.push(
      {
        name: "RatePerAddress",
        priority: rules.length,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            aggregateKeyType: "IP",
            evaluationWindowSec: 300,
            limit: ratePerIp,
            scopeDownStatement: anyoneMayCall,
          },
        },
        visibilityConfig: visibility("RatePerAddress"),
      },
      {
        name: "AwsCommonRuleSet",
        priority: rules.length + 1,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: "AWS",
            name: "AWSManagedRulesCommonRuleSet",
            ruleActionOverrides: [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }],
            scopeDownStatement: anyoneMayCall,
          },
        },
        visibilityConfig: visibility("AwsCommonRuleSet"),
      },
    );

    this.webAcl = new CfnWebACL(this, "WebAcl", {
      description: "integrator-licensing edge: Stripe-only webhook, per-address rate limit, AWS common rules",
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      rules,
      visibilityConfig: visibility("IntegratorLicensingEdge"),
    });
    new CfnOutput(this, "WebAclArn", {
      value: this.webAcl.attrArn,
      description: "Pass to the product stack: cdk deploy -c edge=true -c webAclArn=<this> ...",
    });
  }
}
