import type { Connector, Template } from "#lib/integrator/schemas.ts";
import { type CatalogConnector, priceRefs } from "#lib/licensing/catalog.ts";
import type { StripePrice } from "./prices.ts";
import type { ConnectorListing, ListingPrice, TemplateListing } from "./schemas.ts";

/**
 * Listings, pure: the catalog joined with what integrator.io shows (name, description, images,
 * applications) and what Stripe charges. Whatever cannot be listed is named in `problems`.
 */

/** A catalog price reference as listed, or `undefined` when Stripe has no active recurring price for it. */
export function listingPrice(price: StripePrice | undefined, trialDays: number): ListingPrice | undefined {
  if (!price?.recurring) return undefined;
  return {
    id: price.id,
    lookupKey: price.lookup_key ?? null,
    amount: price.unit_amount ?? null,
    currency: price.currency,
    interval: price.recurring.interval,
    intervalCount: price.recurring.interval_count,
    trialDays,
  };
}

/**
 * One connector's listing. Catalog texts are the fallback when integrator.io has none; an edition
 * or add-on none of whose prices Stripe has is left out (it cannot be bought).
 */
export function connectorListing(
  connector: CatalogConnector,
  remote: Connector,
  prices: ReadonlyMap<string, StripePrice>,
): { listing: ConnectorListing; problems: string[] } {
  const problems: string[] = [];
  const trialDays = connector.trialDays ?? 0;
  const listPrices = (refs: string[], owner: string) =>
    refs.flatMap((ref) => {
      const price = listingPrice(prices.get(ref), trialDays);
      if (!price) problems.push(`${owner}: Stripe has no active recurring price "${ref}"`);
      return price ? [price] : [];
    });
  const editions = connector.editions.flatMap((edition) => {
    const owner = `${connector.key} edition "${edition.key}"`;
    const listed = listPrices(priceRefs(edition), owner);
    return listed.length > 0 ? [{ key: edition.key, name: edition.name ?? edition.key, prices: listed }] : [];
  });
  const addons = connector.addons.flatMap((addon) => {
    const owner = `${connector.key} add-on "${addon.key}"`;
    const listed = listPrices(priceRefs(addon), owner);
    return listed.length > 0
      ? [
          {
            key: addon.key,
            name: addon.name ?? addon.key,
            type: addon.type,
            maxQuantity: addon.maxQuantity,
            prices: listed,
          },
        ]
      : [];
  });
  const listing: ConnectorListing = {
    key: connector.key,
    connectorId: connector.connectorId,
    name: remote.name || connector.name,
    ...optionalText("description", remote.description || connector.description),
    ...optionalText("imageURL", remote.imageURL),
    ...optionalText("websiteURL", remote.websiteURL),
    applications: remote.applications ?? [],
    trialDays,
    editions,
    addons,
  };
  return { listing, problems };
}

/** A template as listed, or `undefined` unless integrator.io says it is published. */
export function templateListing(template: Template): TemplateListing | undefined {
  if (template.published !== true) return undefined;
  return {
    id: template._id,
    name: template.name || template._id,
    ...optionalText("description", template.description),
    ...optionalText("imageURL", template.imageURL),
    ...optionalText("websiteURL", template.websiteURL),
    applications: template.applications ?? [],
    ...optionalText("lastModified", template.lastModified),
  };
}

/** Lower-cased text a template's `q=` search matches against. */
export function templateSearchText(template: TemplateListing): string {
  return [template.name, template.description ?? "", ...template.applications].join("\n").toLowerCase();
}

function optionalText<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}
