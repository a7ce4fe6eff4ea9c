import { Duration, Validations } from "aws-cdk-lib";
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { Construct } from "constructs";

export interface ProductEdgeProps {
  /** The API's custom domain (its execute-api endpoint is off), which CloudFront calls over TLS 1.2. */
  originDomain: string;
  /** The web ACL of cdk/edge-waf-stack.ts, deployed in us-east-1. */
  webAclArn: string;
}

/**
 * CloudFront in front of the HTTP API, under the edge's WAF. Nothing is cached (CachingDisabled)
 * and every viewer header but `Host` — `Authorization`, `Stripe-Signature` included — and the body
 * reach the API (AllViewerExceptHostHeader), so the handlers see what they would without it.
 */
export class ProductEdge extends Construct {
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: ProductEdgeProps) {
    super(scope, id);
    this.distribution = new Distribution(this, "Distribution", {
      comment: "integrator-licensing API behind WAF",
      webAclId: props.webAclArn,
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: new HttpOrigin(props.originDomain, {
          protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          // API Gateway's integration limit: the stack's longest calls.
          readTimeout: Duration.seconds(30),
        }),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: "AwsSolutions-CFR1",
        reason:
          "No geo restriction: Stripe delivers webhooks and integrator.io calls the stack from several regions, and buyers come from anywhere.",
      },
      {
        id: "AwsSolutions-CFR3",
        reason:
          "The API's own JSON access log records every request that reaches it; what the WAF blocks is in its CloudWatch metrics and sampled requests.",
      },
      {
        id: "AwsSolutions-CFR4",
        reason:
          "The distribution answers on CloudFront's default certificate, whose viewer protocol floor cannot be raised; Stripe and integrator.io connect with TLS 1.2 or later.",
      },
    );
  }

  /** The base URL (no trailing slash). */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
