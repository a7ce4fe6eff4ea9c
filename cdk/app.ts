import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { stacksFromContext } from "./stacks-from-context.ts";

/**
 * The CDK app (cdk.json). Vendor settings come as context, on the command line
 * (`cdk deploy -c catalogPath=vendor/catalog.json -c alarmEmail=ops@example.com`) or in cdk.json;
 * cdk/stacks-from-context.ts lists them.
 */
const app = new App();
stacksFromContext(app);
// cdk-nag's AWS Solutions rules run on every synth; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
