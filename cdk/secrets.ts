import { Aws, Fn, type RemovalPolicy, Validations } from "aws-cdk-lib";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { SECRET_PLACEHOLDER, SECRET_SETTINGS, type SecretSetting } from "../lib/config.ts";

/** What each secret is, for its description in the console and the README. */
const descriptions: Record<SecretSetting, string> = {
  STRIPE_SECRET_KEY:
    "Stripe secret (or restricted) API key, sk_live_/rk_live_ or sk_test_. Set after deploy.",
  STRIPE_WEBHOOK_SECRET:
    "Signing secret (whsec_...) of the Stripe webhook endpoint. Set after registering the endpoint.",
  INTEGRATOR_TOKEN: "integrator.io API token of the vendor (partner) account. Set after deploy.",
  INTEGRATOR_SYSTEM_TOKEN:
    "System token integrator.io sends to the stack (POST {hostURI}/function). Generated; copy it into integrator.io.",
  ADMIN_TOKEN: "Bearer token of the admin API and CLI. Generated; rotate with put-secret-value.",
  CURSOR_SIGNING_KEY:
    "Key of the HMAC that authenticates the API's list cursors. Generated; rotating it only ends the paging in progress.",
  CONSOLE_SESSION_KEY:
    "Key of the HMAC that signs the operator console's session cookies. Generated; rotating it signs every operator out.",
};

/** Tokens we issue ourselves start as strong random values; the others are placeholders until the vendor sets them. */
const GENERATED: readonly SecretSetting[] = [
  "INTEGRATOR_SYSTEM_TOKEN",
  "ADMIN_TOKEN",
  "CURSOR_SIGNING_KEY",
  "CONSOLE_SESSION_KEY",
];

/** Why a secret is not rotated automatically (cdk-nag's AwsSolutions-SMG4). */
function noRotationReason(setting: SecretSetting): string {
  if (setting === "CONSOLE_SESSION_KEY")
    return "CONSOLE_SESSION_KEY only signs console session cookies: rotating it signs every operator out of the console, so it is rotated on purpose with put-secret-value (README, Deploy) rather than at an arbitrary moment.";
  if (setting === "CURSOR_SIGNING_KEY")
    return "CURSOR_SIGNING_KEY only authenticates list cursors: rotating it turns the cursors handed out so far into 400 invalid_cursor (callers start again from the first page), so it is rotated on purpose with put-secret-value (README, Deploy) rather than at an arbitrary moment.";
  return GENERATED.includes(setting)
    ? `${setting} is shared with a party outside AWS (integrator.io's stack settings or the admin CLI users); automatic rotation would break them until they are updated by hand, so it is rotated on purpose with put-secret-value (README, Deploy).`
    : `${setting} is issued by ${setting.startsWith("STRIPE") ? "Stripe" : "integrator.io"}, not by AWS: a rotation Lambda cannot mint a new one. It is rolled in that service's dashboard and stored with put-secret-value (README, Deploy).`;
}

export interface ProductSecretsProps {
  /** Prefix of the secrets' names, e.g. the stack name → `IntegratorLicensing/stripe-secret-key`. */
  namePrefix: string;
  /** Existing secrets to use instead of creating them: a secret name or a complete ARN per setting. */
  existing?: Partial<Record<SecretSetting, string>>;
  /** Created secrets follow the data: retained with the table in production. */
  removalPolicy: RemovalPolicy;
  /**
   * Whether a created secret's name ends in a suffix of this stack's creation (the first block of
   * the stack id's UUID): a throwaway stack deleted and created again within Secrets Manager's 7–30
   * day recovery window would otherwise collide with its own deleted secrets ("already scheduled
   * for deletion"). Retained secrets keep their plain names: they are never deleted with the stack.
   */
  uniqueNames?: boolean;
}

/**
 * The secrets of docs/architecture.md §9 in Secrets Manager. Functions get only the `*_SECRET_ID` of the
 * secrets they may read (lib/secrets.ts reads them through Powertools Parameters, again after SECRETS_MAX_AGE_SECONDS); no value is ever in
 * the template or an environment variable.
 */
export class ProductSecrets extends Construct {
  readonly secrets: Record<SecretSetting, ISecret>;
  /** What each function's `*_SECRET_ID` holds: the complete ARN, or the name of a secret imported by name. */
  readonly secretIds: Record<SecretSetting, string>;

  constructor(scope: Construct, id: string, props: ProductSecretsProps) {
    super(scope, id);
    const ids: Partial<Record<SecretSetting, string>> = {};
    const entries = SECRET_SETTINGS.map((setting): [SecretSetting, ISecret] => {
      const constructId = setting
        .toLowerCase()
        .split("_")
        .map((part) => part[0]?.toUpperCase() + part.slice(1))
        .join("");
      const existing = props.existing?.[setting];
      if (existing) {
        ids[setting] = existing;
        return [
          setting,
          existing.startsWith("arn:")
            ? Secret.fromSecretCompleteArn(this, constructId, existing)
            : Secret.fromSecretNameV2(this, constructId, existing),
        ];
      }
      const secret = new Secret(this, constructId, {
        secretName: `${props.namePrefix}/${secretNameOf(setting)}${props.uniqueNames ? `-${creationSuffix()}` : ""}`,
        description: descriptions[setting],
        removalPolicy: props.removalPolicy,
        generateSecretString: GENERATED.includes(setting)
          ? { passwordLength: 48, excludePunctuation: true }
          : // A recognisable placeholder (SECRET_PLACEHOLDER): until the real value is set, the functions
            // answer "not configured" and the schedules skip (lib/secrets.ts), instead of a 401 per call.
            {
              secretStringTemplate: JSON.stringify({ placeholder: SECRET_PLACEHOLDER }),
              generateStringKey: "unused",
              passwordLength: 32,
              excludePunctuation: true,
            },
      });
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason: noRotationReason(setting),
      });
      ids[setting] = secret.secretArn;
      return [setting, secret];
    });
    this.secrets = Object.fromEntries(entries) as Record<SecretSetting, ISecret>;
    this.secretIds = ids as Record<SecretSetting, string>;
  }
}

/**
 * 8 hex digits unique to one creation of the stack: the first block of the UUID at the end of
 * `AWS::StackId` (`arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`). A stack
 * deleted and created again under the same name gets a new one.
 */
export function creationSuffix(): string {
  return Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID))));
}

/** `STRIPE_SECRET_KEY` → `stripe-secret-key`. */
export function secretNameOf(setting: SecretSetting): string {
  return setting.toLowerCase().replaceAll("_", "-");
}
