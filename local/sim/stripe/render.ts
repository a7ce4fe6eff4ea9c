/**
 * Records → Stripe's wire objects, in the shapes of the fixtures in test/fixtures/stripe
 * (API version 2026-10-28.endive): every field present, `null` where Stripe has nothing,
 * timestamps in Unix seconds, ids (not objects) in expandable fields.
 */
import type {
  CheckoutSessionRecord,
  CustomerRecord,
  InvoiceLineRecord,
  InvoiceRecord,
  JsonObject,
  PortalSessionRecord,
  PriceRecord,
  ProductRecord,
  SubscriptionItemRecord,
  SubscriptionRecord,
  TestClockRecord,
  WebhookEndpointRecord,
} from "./model.ts";
import { listObject, type Store } from "./store.ts";

export function renderCustomer(store: Store, customer: CustomerRecord): JsonObject {
  const delinquent = store.invoices.some(
    (invoice) => invoice.customer === customer.id && invoice.status === "open" && invoice.attemptCount > 0,
  );
  return {
    id: customer.id,
    object: "customer",
    address: null,
    balance: 0,
    created: customer.created,
    currency: customer.currency,
    customer_account: null,
    default_source: null,
    delinquent,
    description: customer.description,
    discount: null,
    email: customer.email,
    invoice_prefix: customer.invoicePrefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: { ...customer.metadata },
    name: customer.name,
    next_invoice_sequence: customer.nextInvoiceSequence,
    phone: customer.phone,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: customer.testClock,
  };
}

export function renderProduct(product: ProductRecord): JsonObject {
  return {
    id: product.id,
    object: "product",
    active: product.active,
    created: product.created,
    default_price: product.defaultPrice,
    description: product.description,
    images: [...product.images],
    livemode: false,
    marketing_features: [],
    metadata: { ...product.metadata },
    name: product.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: product.statementDescriptor,
    tax_code: null,
    type: "service",
    unit_label: product.unitLabel,
    updated: product.updated,
    url: product.url,
  };
}

export function renderPrice(price: PriceRecord): JsonObject {
  return {
    id: price.id,
    object: "price",
    active: price.active,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: price.lookupKey,
    metadata: { ...price.metadata },
    nickname: price.nickname,
    product: price.product,
    recurring:
      price.recurring === null
        ? null
        : {
            interval: price.recurring.interval,
            interval_count: price.recurring.intervalCount,
            meter: null,
            trial_period_days: null,
            usage_type: "licensed",
          },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: price.recurring === null ? "one_time" : "recurring",
    unit_amount: price.unitAmount,
    unit_amount_decimal: String(price.unitAmount),
  };
}

/** The legacy `plan` view of a recurring price, still present on subscription items. */
function renderPlan(price: PriceRecord): JsonObject {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unitAmount,
    amount_decimal: String(price.unitAmount),
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? "month",
    interval_count: price.recurring?.intervalCount ?? 1,
    livemode: false,
    metadata: { ...price.metadata },
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}

export function renderSubscriptionItem(
  store: Store,
  subscription: SubscriptionRecord,
  item: SubscriptionItemRecord,
): JsonObject {
  const price = store.prices.require(item.price);
  return {
    id: item.id,
    object: "subscription_item",
    billing_thresholds: null,
    created: item.created,
    current_period_end: subscription.currentPeriodEnd,
    current_period_start: subscription.currentPeriodStart,
    discounts: [],
    metadata: { ...item.metadata },
    plan: renderPlan(price),
    price: renderPrice(price),
    quantity: item.quantity,
    subscription: subscription.id,
    tax_rates: [],
  };
}

export function renderSubscription(store: Store, subscription: SubscriptionRecord): JsonObject {
  const s = subscription;
  return {
    id: s.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: s.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: "classic", updated_at: null },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: s.cancelAt,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    cancellation_details: { ...s.cancellationDetails },
    collection_method: s.collectionMethod,
    created: s.created,
    currency: s.currency,
    customer: s.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: s.description,
    discounts: [],
    ended_at: s.endedAt,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
    items: {
      ...listObject(
        s.items.map((item) => renderSubscriptionItem(store, s, item)),
        `/v1/subscription_items?subscription=${s.id}`,
      ),
      total_count: s.items.length,
    },
    latest_invoice: s.latestInvoice,
    livemode: false,
    managed_payments: null,
    metadata: { ...s.metadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection:
      s.pauseCollection === null
        ? null
        : { behavior: s.pauseCollection.behavior, resumes_at: s.pauseCollection.resumesAt },
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: s.startDate,
    status: s.shownStatus ?? s.status,
    test_clock: s.testClock,
    transfer_data: null,
    trial_end: s.trialEnd,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: s.trialStart,
  };
}

function renderInvoiceLine(store: Store, invoice: InvoiceRecord, line: InvoiceLineRecord): JsonObject {
  const price = store.prices.get(line.price);
  return {
    id: line.id,
    object: "line_item",
    amount: line.amount,
    currency: invoice.currency,
    description: line.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoice.id,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        proration_details: { credited_items: null },
        subscription: invoice.subscription,
        subscription_item: line.subscriptionItem,
      },
      type: "subscription_item_details",
    },
    period: { end: line.periodEnd, start: line.periodStart },
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: line.price, product: price?.product ?? "" },
      type: "price_details",
      unit_amount_decimal: price === undefined ? null : String(price.unitAmount),
    },
    quantity: line.quantity,
    quantity_decimal: String(line.quantity),
    subscription: invoice.subscription,
    subtotal: line.amount,
    taxes: [],
  };
}

export function renderInvoice(store: Store, invoice: InvoiceRecord): JsonObject {
  const i = invoice;
  const customer = store.customers.get(i.customer);
  const subscription = i.subscription === null ? undefined : store.subscriptions.get(i.subscription);
  const finalized = i.status !== "draft";
  return {
    id: i.id,
    object: "invoice",
    account_country: "US",
    account_name: "Integrator Licensing (simulated)",
    account_tax_ids: null,
    amount_due: i.total,
    amount_overpaid: 0,
    amount_paid: i.amountPaid,
    amount_remaining: i.status === "void" || i.status === "uncollectible" ? 0 : i.total - i.amountPaid,
    amount_shipping: 0,
    application: null,
    attempt_count: i.attemptCount,
    attempted: i.attempted,
    auto_advance: i.status === "open" || i.status === "draft",
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: i.billingReason,
    collection_method: "charge_automatically",
    created: i.created,
    currency: i.currency,
    custom_fields: null,
    customer: i.customer,
    customer_account: null,
    customer_address: null,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    customer_phone: customer?.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: i.finalizedAt,
    ending_balance: finalized ? 0 : null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      ...listObject(
        i.lines.map((line) => renderInvoiceLine(store, i, line)),
        `/v1/invoices/${i.id}/lines`,
      ),
      total_count: i.lines.length,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: i.nextPaymentAttempt,
    number: finalized ? i.number : null,
    on_behalf_of: null,
    parent:
      i.subscription === null
        ? null
        : {
            quote_details: null,
            subscription_details: {
              metadata: { ...(subscription?.metadata ?? {}) },
              subscription: i.subscription,
            },
            type: "subscription_details",
          },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: i.periodEnd,
    period_start: i.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: i.status,
    status_transitions: {
      finalized_at: i.finalizedAt,
      marked_uncollectible_at: i.markedUncollectibleAt,
      paid_at: i.paidAt,
      voided_at: i.voidedAt,
    },
    // Removed from the typed API in 2025 but still what many integrations read; kept alongside `parent`.
    subscription: i.subscription,
    subtotal: i.total,
    subtotal_excluding_tax: i.total,
    test_clock: i.testClock,
    total: i.total,
    total_discount_amounts: [],
    total_excluding_tax: i.total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: finalized ? i.finalizedAt : null,
  };
}

export function renderCheckoutLineItems(store: Store, session: CheckoutSessionRecord): JsonObject {
  return listObject(
    session.lineItems.map((line) => {
      const price = store.prices.require(line.price);
      const product = store.products.get(price.product);
      const amount = price.unitAmount * line.quantity;
      return {
        id: line.id,
        object: "item",
        adjustable_quantity: null,
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: price.currency,
        description: product?.name ?? null,
        metadata: {},
        price: renderPrice(price),
        quantity: line.quantity,
      };
    }),
    `/v1/checkout/sessions/${session.id}/line_items`,
  );
}

export function renderCheckoutSession(baseUrl: string, session: CheckoutSessionRecord): JsonObject {
  const s = session;
  const open = s.status === "open";
  return {
    id: s.id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: s.allowPromotionCodes,
    amount_subtotal: s.amountTotal,
    amount_total: s.amountTotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: s.billingAddressCollection,
    cancel_url: s.cancelUrl,
    client_reference_id: s.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: s.created,
    currency: s.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: s.customer,
    customer_account: null,
    customer_creation: null,
    customer_details:
      s.detailsEmail === null
        ? null
        : {
            address: null,
            business_name: null,
            email: s.detailsEmail,
            individual_name: null,
            name: null,
            phone: null,
            tax_exempt: "none",
            tax_ids: [],
          },
    customer_email: s.customerEmail,
    discounts: [],
    expires_at: s.expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: s.locale,
    managed_payments: null,
    metadata: { ...s.metadata },
    mode: s.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: s.paymentStatus,
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: s.status,
    submit_type: null,
    subscription: s.subscription,
    success_url: s.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    // Stripe's url is null once the session is complete or expired.
    url: open ? `${baseUrl}/checkout/${s.id}` : null,
    wallet_options: null,
  };
}

export function renderPortalSession(baseUrl: string, session: PortalSessionRecord): JsonObject {
  return {
    id: session.id,
    object: "billing_portal.session",
    configuration: "bpc_simulator_default",
    created: session.created,
    customer: session.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: session.locale,
    on_behalf_of: null,
    return_url: session.returnUrl,
    url: `${baseUrl}/billing_portal/${session.id}`,
  };
}

/** `withSecret`: Stripe shows the signing secret only in the create response. */
export function renderWebhookEndpoint(endpoint: WebhookEndpointRecord, withSecret = false): JsonObject {
  return {
    id: endpoint.id,
    object: "webhook_endpoint",
    api_version: endpoint.apiVersion,
    application: null,
    created: endpoint.created,
    description: endpoint.description,
    enabled_events: [...endpoint.enabledEvents],
    livemode: false,
    metadata: { ...endpoint.metadata },
    ...(withSecret ? { secret: endpoint.secret } : {}),
    status: endpoint.status,
    url: endpoint.url,
  };
}

export function renderTestClock(clock: TestClockRecord): JsonObject {
  const advancing = clock.advancingTo !== null;
  return {
    id: clock.id,
    object: "test_helpers.test_clock",
    created: clock.created,
    deletes_after: clock.deletesAfter,
    frozen_time: clock.frozenTime,
    livemode: false,
    name: clock.name,
    status: advancing ? "advancing" : "ready",
    status_details: advancing ? { advancing: { target_frozen_time: clock.advancingTo } } : {},
  };
}
