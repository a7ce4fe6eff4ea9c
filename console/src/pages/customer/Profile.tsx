import { Dash } from "../../components/Dash.tsx";
import { date } from "../../format.ts";
import type { CustomerView } from "../../types.ts";

export function Profile({ profile }: { profile: CustomerView["profile"] }) {
  return (
    <section aria-labelledby="profile">
      <h2 id="profile">Profile</h2>
      {profile ? (
        <dl class="facts">
          <dt>Email</dt>
          <dd>
            <Dash value={profile.email} />
          </dd>
          <dt>Checkout email</dt>
          <dd>
            <Dash value={profile.checkoutEmail} />
          </dd>
          {profile.deleted ? (
            <>
              <dt>Deleted</dt>
              <dd class="drift">deleted in Stripe</dd>
            </>
          ) : null}
          <dt>Metadata</dt>
          <dd>
            {Object.keys(profile.metadata).length === 0 ? (
              "—"
            ) : (
              <ul class="plain">
                {Object.entries(profile.metadata).map(([key, value]) => (
                  <li key={key}>
                    <span class="mono">{key}</span>: {value}
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>Updated</dt>
          <dd>{date(profile.updatedAt)}</dd>
        </dl>
      ) : (
        <p>No Stripe profile stored for this customer.</p>
      )}
    </section>
  );
}
