import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { LicensingStack, type LicensingStackProps } from "./licensing-stack.ts";

/**
 * The CDK app (cdk.json). Vendor settings come as context, on the command line
 * (`cdk deploy -c catalogPath=vendor/catalog.json -c alarmEmail=ops@example.com`) or in cdk.json:
 * stackName, catalogPath, integratorApiUrl, stripeApiUrl, stripeLivemode, checkoutAllowedOrigins and
 * corsAllowedOrigins (comma-separated), integratorRateShare, logLevel, alarmEmail, lambdaStack,
 * retainData, workerMaxConcurrency, existingSecrets (JSON: {"STRIPE_SECRET_KEY": "<name or ARN>", ...}).
 */
const app = new App();
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
};
const list = (name: string) =>
  context(name)
    ?.split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
const flag = (name: string) => (context(name) === undefined ? undefined : context(name) === "true");
const number = (name: string) => (context(name) === undefined ? undefined : Number(context(name)));

const props: LicensingStackProps = {
  description:
    "integrator-licensing: Stripe subscriptions to integrator.io licenses, stack, marketplace and admin API",
  catalogPath: context("catalogPath"),
  integratorApiUrl: context("integratorApiUrl"),
  stripeApiUrl: context("stripeApiUrl"),
  stripeLivemode: flag("stripeLivemode"),
  checkoutAllowedOrigins: list("checkoutAllowedOrigins"),
  corsAllowedOrigins: list("corsAllowedOrigins"),
  integratorRateShare: number("integratorRateShare"),
  logLevel: context("logLevel") as LicensingStackProps["logLevel"],
  alarmEmail: context("alarmEmail"),
  lambdaStack: flag("lambdaStack"),
  retainData: flag("retainData"),
  workerMaxConcurrency: number("workerMaxConcurrency"),
  existingSecrets: context("existingSecrets") ? JSON.parse(context("existingSecrets") as string) : undefined,
};

new LicensingStack(app, context("stackName") ?? "IntegratorLicensing", props);
// cdk-nag's AWS Solutions rules run on every synth; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
