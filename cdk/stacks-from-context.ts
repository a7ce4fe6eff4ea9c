import type { App } from "aws-cdk-lib";
import { Annotations } from "aws-cdk-lib";
import { routes } from "../lib/routes.ts";
import { EdgeWafStack } from "./edge-waf-stack.ts";
import { type EdgeSettings, LicensingStack, type LicensingStackProps } from "./licensing-stack.ts";
import { loadSettings } from "./settings.ts";

/**
 * The app's stacks from the environment's settings: `deploy/<env>.json`, `-c env=<name>` (default
 * `sample`), each setting overridable with `-c <setting>=<value>` (cdk/settings.ts checks them all,
 * and names the bad one). The allowed origins are CloudFormation parameters, not settings (README, Deploy).
 */
export function stacksFromContext(app: App): { product: LicensingStack; edgeWaf: EdgeWafStack | undefined } {
  const context = (name: string): unknown => app.node.tryGetContext(name);
  const env = context("env");
  const settings = loadSettings(typeof env === "string" && env !== "" ? env : undefined, context);
  const stackName = settings.stackName;

  const edgeOn = settings.edge === true;
  const edgeWaf = edgeOn
    ? new EdgeWafStack(app, `${stackName}-EdgeWaf`, {
        description: "integrator-licensing edge: CloudFront's web ACL (us-east-1)",
        routes,
        ratePerIpPer5Min: settings.edgeRatePerIp,
      })
    : undefined;
  const edgeSettings = {
    originDomain: settings.edgeOriginDomain,
    originCertificateArn: settings.edgeOriginCertificateArn,
    webAclArn: settings.webAclArn,
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
    catalogPath: settings.catalogPath,
    integratorApiUrl: settings.integratorApiUrl,
    stripeApiUrl: settings.stripeApiUrl,
    stripeLivemode: settings.stripeLivemode,
    integratorRateShare: settings.integratorRateShare,
    integratorBulkShare: settings.integratorBulkShare,
    secretsMaxAgeSeconds: settings.secretsMaxAgeSeconds,
    logLevel: settings.logLevel,
    alarmEmail: settings.alarmEmail,
    lambdaStack: settings.lambdaStack,
    retainData: settings.retainData,
    workerMaxConcurrency: settings.workerMaxConcurrency,
    existingSecrets: settings.existingSecrets,
    throttles: settings.throttles,
    ...(edgeOn && missing.length === 0 ? { edge: edgeSettings as EdgeSettings } : {}),
  };
  const product = new LicensingStack(app, stackName, props);
  if (edgeOn && missing.length > 0) {
    // An error on this stack only: the WAF stack still deploys, and gives the web ACL's ARN.
    Annotations.of(product).addError(
      `edge=true needs ${missing.join(", ")}: deploy ${edgeWaf?.stackName} first (cdk deploy ${edgeWaf?.stackName} -c edge=true), then pass its WebAclArn output as -c webAclArn=... (or put it in deploy/<env>.json), with the API's origin domain and its certificate (README, Deploy)`,
    );
  }
  return { product, edgeWaf };
}
