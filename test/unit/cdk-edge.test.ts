import { App, Validations } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { CachePolicy, OriginRequestPolicy } from "aws-cdk-lib/aws-cloudfront";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { routes } from "#lib/routes.ts";
import {
  DEFAULT_RATE_PER_IP_PER_5_MIN,
  EDGE_WAF_REGION,
  RATE_PER_IP_BOUNDS,
} from "../../cdk/edge-waf-stack.ts";
import { stacksFromContext } from "../../cdk/stacks-from-context.ts";
import { STRIPE_WEBHOOK_IPS } from "../../cdk/stripe-webhook-ips.ts";

// `cdk synth -c edge=true ...` as the CLI runs it (cdk/app.ts), without bundling the functions.
const EDGE_CONTEXT = {
  edge: "true",
  edgeOriginDomain: "api-origin.example.com",
  edgeOriginCertificateArn:
    "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
  webAclArn: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
};
const synth = (context: Record<string, string>) => {
  const app = new App({ context: { ...context, "aws:cdk:bundling-stacks": [] } });
  return { app, ...stacksFromContext(app) };
};

type Json = Record<string, unknown>;
type Rule = {
  Name: string;
  Priority: number;
  Action?: Json;
  OverrideAction?: Json;
  Statement: Statement;
};
type Statement = {
  ByteMatchStatement?: {
    FieldToMatch: Json;
    PositionalConstraint: string;
    SearchString: string;
    TextTransformations: { Priority: number; Type: string }[];
  };
  AndStatement?: { Statements: Statement[] };
  OrStatement?: { Statements: Statement[] };
  NotStatement?: { Statement: Statement };
  IPSetReferenceStatement?: { Arn: unknown };
  RateBasedStatement?: { AggregateKeyType: string; Limit: number; ScopeDownStatement: Statement };
  ManagedRuleGroupStatement?: {
    VendorName: string;
    Name: string;
    RuleActionOverrides?: { Name: string; ActionToUse: Json }[];
    ScopeDownStatement: Statement;
  };
};

/** WAF's text transformations this edge uses, as WAF applies them (by priority). */
const TRANSFORMS: Record<string, (value: string) => string> = {
  URL_DECODE: (value) => decodeURIComponent(value),
  NORMALIZE_PATH: (value) => value.replace(/\/\.(?=\/|$)/g, "").replace(/\/{2,}/g, "/"),
  LOWERCASE: (value) => value.toLowerCase(),
};

/** Whether a request (path, source address) matches a statement, the IP set holding `stripe`. */
function matches(
  statement: Statement,
  request: { path: string; ip: string },
  stripe: readonly string[],
): boolean {
  if (statement.AndStatement)
    return statement.AndStatement.Statements.every((s) => matches(s, request, stripe));
  if (statement.OrStatement) return statement.OrStatement.Statements.some((s) => matches(s, request, stripe));
  if (statement.NotStatement) return !matches(statement.NotStatement.Statement, request, stripe);
  if (statement.IPSetReferenceStatement) return stripe.includes(request.ip);
  const byteMatch = statement.ByteMatchStatement;
  if (!byteMatch) throw new Error(`no evaluator for ${JSON.stringify(statement)}`);
  expect(byteMatch.FieldToMatch).toEqual({ UriPath: {} });
  const value = [...byteMatch.TextTransformations]
    .sort((a, b) => a.Priority - b.Priority)
    .reduce((path, t) => (TRANSFORMS[t.Type] as (v: string) => string)(path), request.path);
  expect(byteMatch.PositionalConstraint).toBe("STARTS_WITH");
  return value.startsWith(byteMatch.SearchString);
}

describe("the edge (-c edge=true)", () => {
  let product: Template;
  let waf: Template;
  let rules: Rule[];
  let nagFindings: string[];
  let acknowledgements: string[];

  beforeAll(() => {
    const { app, product: productStack, edgeWaf } = synth(EDGE_CONTEXT);
    if (!edgeWaf) throw new Error("edge=true made no WAF stack");
    expect(edgeWaf.region).toBe(EDGE_WAF_REGION);
    product = Template.fromStack(productStack);
    waf = Template.fromStack(edgeWaf);
    const [acl] = Object.values(waf.findResources("AWS::WAFv2::WebACL")) as { Properties: Json }[];
    rules = acl?.Properties.Rules as Rule[];
    nagFindings = new AwsSolutionsChecks(app)
      .validateScope(app)
      .violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`);
    acknowledgements = [];
    const walk = (construct: IConstruct) => {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          acknowledgements.push(...Object.values(entry.data as Record<string, string>));
      }
      for (const child of construct.node.children) walk(child);
    };
    walk(app);
  }, 120_000);

  it("puts CloudFront under the web ACL in front of the API, and turns the execute-api endpoint off", () => {
    product.hasResourceProperties("AWS::ApiGatewayV2::Api", { DisableExecuteApiEndpoint: true });
    product.hasResourceProperties("AWS::ApiGatewayV2::DomainName", {
      DomainName: EDGE_CONTEXT.edgeOriginDomain,
      DomainNameConfigurations: [
        {
          CertificateArn: EDGE_CONTEXT.edgeOriginCertificateArn,
          EndpointType: "REGIONAL",
          SecurityPolicy: "TLS_1_2",
        },
      ],
    });
    product.hasResourceProperties("AWS::ApiGatewayV2::ApiMapping", { Stage: "$default" });
    product.resourceCountIs("AWS::CloudFront::Distribution", 1);
    product.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        WebACLId: EDGE_CONTEXT.webAclArn,
        Origins: [
          Match.objectLike({
            DomainName: EDGE_CONTEXT.edgeOriginDomain,
            CustomOriginConfig: Match.objectLike({
              OriginProtocolPolicy: "https-only",
              OriginSSLProtocols: ["TLSv1.2"],
            }),
          }),
        ],
      }),
    });
  });

  it("caches nothing and passes every header but Host (Authorization, Stripe-Signature) and the body to the API", () => {
    const [distribution] = Object.values(product.findResources("AWS::CloudFront::Distribution")) as {
      Properties: { DistributionConfig: Json };
    }[];
    const config = distribution?.Properties.DistributionConfig as Json;
    // One behaviour for every path: no route is ever served from a cache.
    expect(config.CacheBehaviors).toBeUndefined();
    expect(config.DefaultCacheBehavior).toMatchObject({
      CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
      OriginRequestPolicyId: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
      ViewerProtocolPolicy: "https-only",
      AllowedMethods: expect.arrayContaining(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]),
    });
  });

  it("gives Stripe and integrator.io the distribution's URLs, and names the origin's DNS target", () => {
    const outputs = product.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [distributionId] = Object.keys(product.findResources("AWS::CloudFront::Distribution"));
    const base = ["https://", { "Fn::GetAtt": [distributionId, "DomainName"] }];
    expect(outputs.ApiUrl?.Value).toEqual({ "Fn::Join": ["", base] });
    expect(outputs.WebhookUrl?.Value).toEqual({ "Fn::Join": ["", [...base, "/webhooks/stripe"]] });
    expect(outputs.IntegratorHostUri?.Value).toEqual({ "Fn::Join": ["", [...base, "/integrator"]] });
    expect(JSON.stringify(outputs.EdgeOriginTarget?.Value)).toContain("RegionalDomainName");
  });

  it("opens the webhook to Stripe's published addresses only, however the path is spelled", () => {
    waf.hasResourceProperties("AWS::WAFv2::IPSet", {
      Scope: "CLOUDFRONT",
      IPAddressVersion: "IPV4",
      Addresses: STRIPE_WEBHOOK_IPS.map((ip) => `${ip}/32`),
    });
    const rule = rules.find((r) => r.Name === "StripeWebhookFromStripeOnly") as Rule;
    expect(rule.Action).toEqual({ Block: {} });
    expect(rule.Priority).toBe(0);
    const blocked = (path: string, ip: string) => matches(rule.Statement, { path, ip }, STRIPE_WEBHOOK_IPS);
    const stripe = STRIPE_WEBHOOK_IPS[0] as string;
    expect(blocked("/webhooks/stripe", "198.51.100.7")).toBe(true);
    for (const spelled of [
      "/Webhooks/Stripe",
      "//webhooks/stripe",
      "/webhooks/%73tripe",
      "/./webhooks/stripe/",
    ])
      expect(blocked(spelled, "198.51.100.7"), spelled).toBe(true);
    expect(blocked("/webhooks/stripe", stripe)).toBe(false);
    expect(blocked("/marketplace/connectors", "198.51.100.7")).toBe(false);
  });

  it("limits each address on the routes anyone may call, and runs AWS's common rules there", () => {
    const rate = rules.find((r) => r.Name === "RatePerAddress") as Rule;
    expect(rate.Action).toEqual({ Block: {} });
    expect(rate.Statement.RateBasedStatement).toMatchObject({
      AggregateKeyType: "IP",
      Limit: DEFAULT_RATE_PER_IP_PER_5_MIN,
    });
    const common = rules.find((r) => r.Name === "AwsCommonRuleSet") as Rule;
    expect(common.OverrideAction).toEqual({ None: {} });
    expect(common.Statement.ManagedRuleGroupStatement).toMatchObject({
      VendorName: "AWS",
      Name: "AWSManagedRulesCommonRuleSet",
      // Bodies over 8 KB are the route table's business (413), not a 403 from the edge.
      RuleActionOverrides: [{ Name: "SizeRestrictions_BODY", ActionToUse: { Count: {} } }],
    });
    const anyone = "203.0.113.9";
    for (const rule of [rate, common]) {
      const scope = (rule.Statement.RateBasedStatement ?? rule.Statement.ManagedRuleGroupStatement)
        ?.ScopeDownStatement as Statement;
      const inScope = (path: string) => matches(scope, { path, ip: anyone }, STRIPE_WEBHOOK_IPS);
      for (const r of routes) {
        // Stripe's and integrator.io's routes keep their own budgets (and Stripe its allow-list).
        const ownBudget = r.auth === "stripe" || r.auth === "system";
        expect(inScope(r.path.replace(/\{\w+\}/g, "x")), `${rule.Name} ${r.path}`).toBe(!ownBudget);
      }
      expect(inScope("/no/such/route"), rule.Name).toBe(true);
    }
    expect(rules.map((r) => r.Priority)).toEqual([0, 1, 2]);
  });

  it("outputs the web ACL's ARN for the product stack's -c webAclArn", () => {
    const outputs = waf.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [aclId] = Object.keys(waf.findResources("AWS::WAFv2::WebACL"));
    expect(outputs.WebAclArn?.Value).toEqual({ "Fn::GetAtt": [aclId, "Arn"] });
    waf.hasResourceProperties("AWS::WAFv2::WebACL", { Scope: "CLOUDFRONT", DefaultAction: { Allow: {} } });
  });

  it("passes cdk-nag AwsSolutions in both stacks, every acknowledgement explained", () => {
    expect(nagFindings).toEqual([]);
    for (const reason of acknowledgements) expect(reason.length, reason).toBeGreaterThanOrEqual(60);
    expect(acknowledgements.some((reason) => reason.includes("geo restriction"))).toBe(true);
  });
});

describe("the app's context", () => {
  it("without edge: no CloudFront, no WAF stack, the execute-api endpoint on", () => {
    const { product, edgeWaf } = synth({});
    expect(edgeWaf).toBeUndefined();
    const template = Template.fromStack(product);
    template.resourceCountIs("AWS::CloudFront::Distribution", 0);
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", { DisableExecuteApiEndpoint: false });
  });

  it("edge=true before the web ACL exists: the WAF stack is whole, the product stack says what is missing", () => {
    const { product, edgeWaf } = synth({ edge: "true" });
    expect(edgeWaf && Template.fromStack(edgeWaf).findResources("AWS::WAFv2::WebACL")).not.toEqual({});
    Annotations.fromStack(product).hasError(
      "*",
      Match.stringLikeRegexp("edge=true needs edgeOriginDomain, edgeOriginCertificateArn, webAclArn"),
    );
    if (edgeWaf) expect(Annotations.fromStack(edgeWaf).findError("*", Match.anyValue())).toEqual([]);
  });

  it("refuses a web ACL that is not CloudFront's, or an origin that is not a host name", () => {
    expect(() =>
      synth({ ...EDGE_CONTEXT, webAclArn: EDGE_CONTEXT.webAclArn.replace("us-east-1", "eu-west-1") }),
    ).toThrow(/webAclArn/);
    expect(() => synth({ ...EDGE_CONTEXT, edgeOriginDomain: "https://api.example.com/" })).toThrow(
      /originDomain/,
    );
  });

  it("sizes a route class's throttle from -c throttle<Class>=<rate>/<burst>, and refuses anything else", () => {
    const { product } = synth({ throttleWebhook: "300/600", throttleDefault: "5/5" });
    const [stage] = Object.values(Template.fromStack(product).findResources("AWS::ApiGatewayV2::Stage")) as {
      Properties: Json;
    }[];
    expect(stage?.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 5,
      ThrottlingBurstLimit: 5,
    });
    const settings = (stage?.Properties.RouteSettings ?? {}) as Json;
    expect(settings["POST /webhooks/stripe"]).toEqual({
      ThrottlingRateLimit: 300,
      ThrottlingBurstLimit: 600,
    });
    for (const bad of ["300", "0/10", "fast/600", "300/-1"])
      expect(() => synth({ throttleStack: bad }), bad).toThrow(/throttleStack/);
  });

  it("limits each address to -c edgeRatePerIp, and refuses a rate WAF would refuse at deploy", () => {
    const limitOf = (edgeRatePerIp: string) => {
      const { edgeWaf } = synth({ ...EDGE_CONTEXT, edgeRatePerIp });
      if (!edgeWaf) throw new Error("edge=true made no WAF stack");
      const [acl] = Object.values(Template.fromStack(edgeWaf).findResources("AWS::WAFv2::WebACL")) as {
        Properties: { Rules: Rule[] };
      }[];
      return acl?.Properties.Rules.find((r) => r.Name === "RatePerAddress")?.Statement.RateBasedStatement
        ?.Limit;
    };
    expect(limitOf("250")).toBe(250);
    expect(limitOf(String(RATE_PER_IP_BOUNDS.min))).toBe(10);
    expect(limitOf(String(RATE_PER_IP_BOUNDS.max))).toBe(2_000_000_000);
    for (const bad of ["fast", "NaN", "-5", "0", "9", "2000000001", "100.5", "1e3", "10/20"])
      expect(() => synth({ ...EDGE_CONTEXT, edgeRatePerIp: bad }), bad).toThrow(
        /edgeRatePerIp: .* whole number .* from 10 to 2,000,000,000/,
      );
    // Off the edge the setting is unused, so it cannot fail the synth.
    expect(synth({ edgeRatePerIp: "fast" }).edgeWaf).toBeUndefined();
  });
});
