import { request } from "../api.ts";
import { Show } from "../components/Loaded.tsx";
import { TableWrap } from "../components/TableWrap.tsx";
import { text } from "../format.ts";
import { useLoad } from "../load.ts";
import { useTitle } from "../title.ts";
import type { CatalogConnector, Catalog as CatalogData, CatalogPrice } from "../types.ts";

/** `#/catalog`: what is sold — connectors, their editions and add-ons, the Stripe prices buying them. */
export function Catalog() {
  useTitle("Catalog");
  const [state] = useLoad(() => request<CatalogData>("/admin/catalog"), []);
  return (
    <>
      <h1>Catalog</h1>
      <Show state={state} what="the catalog">
        {(catalog) => (
          <div class="stack">
            {catalog.connectors.length === 0 ? <p>The catalog lists no connectors.</p> : null}
            {catalog.connectors.map((connector) => (
              <Connector key={connector.key} connector={connector} />
            ))}
            <section aria-labelledby="policy" class="card">
              <h2 id="policy">Policy</h2>
              <dl class="facts">
                {Object.entries(catalog.policy).map(([key, value]) => (
                  <div key={key} class="fact">
                    <dt>{key}</dt>
                    <dd>{text(value)}</dd>
                  </div>
                ))}
              </dl>
            </section>
          </div>
        )}
      </Show>
    </>
  );
}

function Connector({ connector }: { connector: CatalogConnector }) {
  const id = `connector-${connector.key}`;
  const addons = connector.addons ?? [];
  return (
    <section aria-labelledby={id} class="card">
      <h2 id={id}>
        {connector.name} <span class="muted id">({connector.key})</span>
      </h2>
      {connector.description ? <p>{connector.description}</p> : null}
      <dl class="facts">
        <dt>Connector id</dt>
        <dd class="id">{connector.connectorId}</dd>
        <dt>Trial</dt>
        <dd>{connector.trialDays ? `${connector.trialDays} days` : "—"}</dd>
      </dl>
      <h3>Editions</h3>
      <TableWrap label={`Editions of ${connector.name}`}>
        <table>
          <thead>
            <tr>
              <th scope="col">Edition</th>
              <th scope="col">Name</th>
              <th scope="col">Prices</th>
            </tr>
          </thead>
          <tbody>
            {connector.editions.map((edition) => (
              <tr key={edition.key}>
                <td class="id">{edition.key}</td>
                <td>{text(edition.name)}</td>
                <td class="id">{edition.prices.map(priceText).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <h3>Add-ons</h3>
      {addons.length === 0 ? (
        <p>No add-ons.</p>
      ) : (
        <TableWrap label={`Add-ons of ${connector.name}`}>
          <table>
            <thead>
              <tr>
                <th scope="col">Add-on</th>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Add-on edition</th>
                <th scope="col">Max quantity</th>
                <th scope="col">Prices</th>
              </tr>
            </thead>
            <tbody>
              {addons.map((addon) => (
                <tr key={addon.key}>
                  <td class="id">{addon.key}</td>
                  <td>{text(addon.name)}</td>
                  <td>{addon.type}</td>
                  <td>{addon.addOnEdition}</td>
                  <td>{text(addon.maxQuantity)}</td>
                  <td class="id">{addon.prices.map(priceText).join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

/** A price as the catalog gives it: its id or lookup key, then what it charges when the catalog says (`prem_yearly (1990.00 USD / year)`). */
function priceText(price: CatalogPrice): string {
  if (typeof price === "string") return price;
  if (price.amount === undefined || price.currency === undefined) return price.lookupKey;
  const currency = price.currency.toUpperCase();
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return `${price.lookupKey} (${(price.amount / 10 ** digits).toFixed(digits)} ${currency} / ${price.interval ?? "?"})`;
}
