import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { SettingsError } from "./settings.ts";
import { stacksFromContext } from "./stacks-from-context.ts";

/**
 * The CDK app (cdk.json). Deployment settings are the environment's file, `deploy/<env>.json`
 * (`-c env=prod`; default `sample`), each overridable on the command line
 * (`-c alarmEmail=ops@example.com`); cdk/settings.ts lists and checks them.
 */
const app = new App();
try {
  stacksFromContext(app);
} catch (error) {
  // A bad setting: its one line, without a stack trace, and the synth fails.
  if (!(error instanceof SettingsError)) throw error;
  console.error(error.message);
  process.exit(1);
}
// cdk-nag's AWS Solutions rules run on every synth; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
