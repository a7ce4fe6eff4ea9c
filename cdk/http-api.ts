import { type RemovalPolicy, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  type CfnStage,
  DomainName,
  EndpointType,
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  type HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  SecurityPolicy,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Certificate } from "aws-cdk-lib/aws-certificatemanager";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { FunctionName } from "../lib/functions.ts";
import type { AuthKind } from "../lib/http/types.ts";
import { methodsOf, type RouteDefinition } from "../lib/routes.ts";
import { pascal } from "./bundling.ts";
import { type RouteThrottles, routeSettings } from "./throttles.ts";

export interface ProductHttpApiProps {
  routes: readonly RouteDefinition[];
  /** The Lambda behind each function-table name. */
  functions: ReadonlyMap<string, IFunction>;
  /** The function answering `$default` (unknown path → 404, wrong method → 405, CORS preflights). */
  defaultFunction: string;
  /** The function serving integrator.io's stack (its routes get the `stack` budget). */
  stackFunction: FunctionName;
  /** Per route class; `default` is the stage's and `$default`'s. */
  throttles: RouteThrottles;
  /**
   * Behind the edge (cdk/edge.ts): the API answers only on this custom domain, with its regional
   * ACM certificate, and its execute-api endpoint is off. The domain is in public DNS, so a caller
   * who finds it reaches the API around CloudFront's WAF, still under the route throttles and the
   * handlers' own checks (docs/decisions.md).
   */
  originDomain?: OriginDomain;
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

export interface OriginDomain {
  name: string;
  certificateArn: string;
}

/**
 * The HTTP API: one route per entry of lib/routes.ts, each to its function (payload v2), plus
 * `$default`; one auto-deployed `$default` stage with a throttle per route class and JSON access logs.
 */
export class ProductHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** The custom domain CloudFront reaches the API on, when there is an edge. */
  readonly originDomain: DomainName | undefined;

  constructor(scope: Construct, id: string, props: ProductHttpApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.api = new HttpApi(this, "Api", {
      description: "integrator-licensing: Stripe webhooks, integrator.io stack, marketplace, admin",
      createDefaultStage: false,
      disableExecuteApiEndpoint: props.originDomain !== undefined,
    });
    this.originDomain =
      props.originDomain &&
      new DomainName(this, "OriginDomain", {
        domainName: props.originDomain.name,
        certificate: Certificate.fromCertificateArn(
          this,
          "OriginCertificate",
          props.originDomain.certificateArn,
        ),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
    this.stage = this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttles.default,
      ...(this.originDomain ? { domainMapping: { domainName: this.originDomain } } : {}),
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

    const httpRoutes: HttpRoute[] = [];
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
        httpRoutes.push(httpRoute);
      }
    }
    const stage = this.stage.node.defaultChild as CfnStage;
    stage.routeSettings = routeSettings(props.routes, props.throttles, props.stackFunction);
    // A stage's route settings name routes that must exist already.
    stage.node.addDependency(...httpRoutes);
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
