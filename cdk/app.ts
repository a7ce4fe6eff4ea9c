import { App } from "aws-cdk-lib";
import { LicensingStack } from "./licensing-stack.ts";

const app = new App();
new LicensingStack(app, "IntegratorLicensing", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
