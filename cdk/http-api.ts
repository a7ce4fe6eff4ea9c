import { type RemovalPolicy, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  type HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { AuthKind } from "../lib/http/types.ts";
import { methodsOf, type RouteDefinition } from "../lib/routes.ts";
import { pascal } from "./bundling.ts";

export interface ProductHttpApiProps {
  routes: readonly RouteDefinition[];
  /** The Lambda behind each function-table name. */
  functions: ReadonlyMap<string, IFunction>;
  /** The function answering `$default` (unknown path → 404, wrong method → 405, CORS preflights). */
  defaultFunction: string;
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

/** Why a route has no API Gateway authorizer: docs/architecture.md §6 checks auth inside the handlers, the same locally and in AWS. */
const authReasons: Record<AuthKind, string> = {
  public:
    "Public by design (docs/architecture.md §6: listings, health, OpenAPI, checkout with allow-listed redirect origins).",
  stripe:
    "Authenticated in the handler by Stripe's signature on the raw body (docs/architecture.md §6), which an authorizer cannot see.",
  system:
    "Authenticated in the handler by integrator.io's stack system token, compared in constant time (docs/architecture.md §3, §6).",
  admin:
    "Authenticated in the handler by the admin bearer token from Secrets Manager, compared in constant time (docs/architecture.md §6).",
};

/**
 * The JSON access log. `status` is unquoted so a metric filter can compare it as a number (the
 * webhook 4xx alarm). No header is logged: tokens and signatures stay out of the logs.
 */
const ACCESS_LOG_FORMAT = `{${[
  `"requestId":"$context.requestId"`,
  `"requestTime":"$context.requestTime"`,
  `"ip":"$context.identity.sourceIp"`,
  `"routeKey":"$context.routeKey"`,
  `"method":"$context.httpMethod"`,
  `"path":"$context.path"`,
  `"status":$context.status`,
  `"responseLength":"$context.responseLength"`,
  `"latencyMs":"$context.responseLatency"`,
  `"integrationLatencyMs":"$context.integrationLatency"`,
  `"integrationError":"$context.integrationErrorMessage"`,
  `"userAgent":"$context.identity.userAgent"`,
].join(",")}}`;

/**
 * The HTTP API: one route per entry of lib/routes.ts, each to its function (payload v2), plus
 * `$default`; one auto-deployed `$default` stage with throttling and JSON access logs.
 */
export class ProductHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ProductHttpApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.api = new HttpApi(this, "Api", {
      description: "integrator-licensing: Stripe webhooks, integrator.io stack, marketplace, admin",
      createDefaultStage: false,
    });
    this.stage = this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    const integrations = new Map<string, HttpLambdaIntegration>();
    const integrationFor = (name: string) => {
      const fn = props.functions.get(name);
      if (!fn)
        throw new Error(`lib/routes.ts names function "${name}", which lib/functions.ts does not define`);
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(name)}Integration`, fn, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        });
        integrations.set(name, integration);
      }
      return integration;
    };

    // A GET route's HEAD goes to the same function, which answers it without the body.
    for (const route of props.routes) {
      for (const method of methodsOf(route)) {
        const httpRoute = new HttpRoute(this, `Route${pascal(method.toLowerCase())}${pascal(route.path)}`, {
          httpApi: this.api,
          routeKey: HttpRouteKey.with(route.path, HttpMethod[method as keyof typeof HttpMethod]),
          integration: integrationFor(route.function),
        });
        Validations.of(httpRoute).acknowledge({
          id: "AwsSolutions-APIG4",
          reason: `${method} ${route.path}: ${authReasons[route.auth]}`,
        });
      }
    }
    const fallback = new HttpRoute(this, "RouteDefault", {
      httpApi: this.api,
      routeKey: HttpRouteKey.DEFAULT,
      integration: integrationFor(props.defaultFunction),
    });
    Validations.of(fallback).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "$default only answers 404/405 (and CORS preflights) in JSON; it reaches no data, so there is nothing to authorize.",
    });
  }

  /** The base URL (no trailing slash). */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
