import type { App } from "aws-cdk-lib";
import { Annotations } from "aws-cdk-lib";
import { routes } from "../lib/routes.ts";
import { EdgeWafStack, parseRatePerIp } from "./edge-waf-stack.ts";
import { type EdgeSettings, LicensingStack, type LicensingStackProps } from "./licensing-stack.ts";
import { parseThrottle, type RouteThrottles } from "./throttles.ts";

/**
 * The app's stacks from its context (`-c name=value` or cdk.json): stackName, catalogPath,
 * integratorApiUrl, stripeApiUrl, stripeLivemode, integratorRateShare, secretsMaxAgeSeconds, logLevel, alarmEmail,
 * lambdaStack, retainData, workerMaxConcurrency, existingSecrets (JSON: {"STRIPE_SECRET_KEY":
 * "<name or ARN>", ...}), throttleWebhook, throttleStack, throttleAdmin, throttlePublic and
 * throttleDefault (`<rate>/<burst>`), and the edge: edge=true with edgeOriginDomain,
 * edgeOriginCertificateArn and webAclArn, and edgeRatePerIp (a whole number, 10 to 2,000,000,000).
 * The allowed origins are CloudFormation parameters, not context (README, Deploy).
 */
export function stacksFromContext(app: App): { product: LicensingStack; edgeWaf: EdgeWafStack | undefined } {
  const context = (name: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(name);
    if (value === undefined || value === null || value === "") return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  const flag = (name: string) => (context(name) === undefined ? undefined : context(name) === "true");
  const number = (name: string) => (context(name) === undefined ? undefined : Number(context(name)));
  const stackName = context("stackName") ?? "IntegratorLicensing";

  const throttles: Partial<RouteThrottles> = {};
  for (const routeClass of ["webhook", "stack", "admin", "public", "default"] as const) {
    const name = `throttle${routeClass[0]?.toUpperCase()}${routeClass.slice(1)}`;
    const value = context(name);
    if (value !== undefined) throttles[routeClass] = parseThrottle(name, value);
  }

  const edgeOn = flag("edge") === true;
  const ratePerIp = context("edgeRatePerIp");
  const edgeWaf = edgeOn
    ? new EdgeWafStack(app, `${stackName}-EdgeWaf`, {
        description: "integrator-licensing edge: CloudFront's web ACL (us-east-1)",
        routes,
        ratePerIpPer5Min: ratePerIp === undefined ? undefined : parseRatePerIp("edgeRatePerIp", ratePerIp),
      })
    : undefined;
  const edgeSettings = {
    originDomain: context("edgeOriginDomain"),
    originCertificateArn: context("edgeOriginCertificateArn"),
    webAclArn: context("webAclArn"),
  };
  const missing = Object.entries({
    edgeOriginDomain: edgeSettings.originDomain,
    edgeOriginCertificateArn: edgeSettings.originCertificateArn,
    webAclArn: edgeSettings.webAclArn,
  })
    .filter(([, value]) => value === undefined)
    .map(([name]) => name);

  const props: LicensingStackProps = {
    description:
      "integrator-licensing: Stripe subscriptions to integrator.io licenses, stack, marketplace and admin API",
    catalogPath: context("catalogPath"),
    integratorApiUrl: context("integratorApiUrl"),
    stripeApiUrl: context("stripeApiUrl"),
    stripeLivemode: flag("stripeLivemode"),
    integratorRateShare: number("integratorRateShare"),
    secretsMaxAgeSeconds: number("secretsMaxAgeSeconds"),
    logLevel: context("logLevel") as LicensingStackProps["logLevel"],
    alarmEmail: context("alarmEmail"),
    lambdaStack: flag("lambdaStack"),
    retainData: flag("retainData"),
    workerMaxConcurrency: number("workerMaxConcurrency"),
    existingSecrets: context("existingSecrets")
      ? JSON.parse(context("existingSecrets") as string)
      : undefined,
    throttles,
    ...(edgeOn && missing.length === 0 ? { edge: edgeSettings as EdgeSettings } : {}),
  };
  const product = new LicensingStack(app, stackName, props);
  if (edgeOn && missing.length > 0) {
    // An error on this stack only: the WAF stack still deploys, and gives the web ACL's ARN.
    Annotations.of(product).addError(
      `edge=true needs ${missing.join(", ")}: deploy ${edgeWaf?.stackName} first (cdk deploy ${edgeWaf?.stackName} -c edge=true), then pass its WebAclArn output as -c webAclArn=..., with the API's origin domain and its certificate (README, Deploy)`,
    );
  }
  return { product, edgeWaf };
}
