import type { AccessTokenView, MintedToken } from '../../auth/management/access-token-service';
import type { UserView } from '../../auth/management/account-service';
import { html, type Html } from '../html';
import { ownerUrl } from '../urls';

const SCOPES = ['read:packages', 'write:packages', 'delete:packages'] as const;

/** The signed-in user's account: organisations, tokens (a new one shown this once), create and revoke. */
export function accountBody(
  me: UserView,
  tokens: AccessTokenView[],
  csrf: string,
  minted: MintedToken | null,
  flash: string | null,
  siteAdmin = false,
): Html {
  return html`<h1>${me.name}</h1>
    ${flash ? html`<p class="flash" role="status">${flash}</p>` : ''}
    ${
      minted
        ? html`<section class="flash" aria-labelledby="new-token">
            <h2 id="new-token">Your new token</h2>
            <p>Copy it now: it is not shown again.</p>
            <div class="pull">
              <code id="new-token-value">${minted.token}</code><button type="button" data-copy="new-token-value" hidden>Copy</button>
            </div>
          </section>`
        : ''
    }
    <p><a href="${ownerUrl('user', me.name)}">Your packages</a></p>
    ${siteAdmin ? html`<p><a href="/-/hooks?scope=instance">Instance webhooks</a> <span class="muted">(every package)</span></p>` : ''}
    ${
      me.orgs.length > 0
        ? html`<h2>Organisations</h2>
            <ul>
              ${me.orgs.map(
                (o) =>
                  html`<li>
                    <a href="${ownerUrl('org', o.name)}">${o.name}</a> <span class="muted">${o.role}</span>
                    ${o.role === 'owner' ? html`<a href="/-/hooks?scope=${encodeURIComponent(`org:${o.name}`)}">webhooks</a>` : ''}
                  </li>`,
              )}
            </ul>`
        : ''
    }
    <h2>Personal access tokens</h2>
    ${
      tokens.length === 0
        ? html`<p class="muted">No tokens yet.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${tokens.map(
                (t) =>
                  html`<tr>
                    <td>${t.name}</td>
                    <td>${t.scopes.join(', ')}</td>
                    <td>${t.expiresAt?.slice(0, 10) ?? 'never'}</td>
                    <td>${t.lastUsedAt?.slice(0, 10) ?? 'never'}</td>
                    <td>${t.status}</td>
                    <td>
                      ${
                        t.status === 'active' && t.kind === 'pat'
                          ? html`<form method="post" action="/-/tokens/${t.id}/revoke" class="inline">
                              <input type="hidden" name="csrf" value="${csrf}" />
                              <button type="submit" class="danger" aria-label="Revoke token ${t.name}">Revoke</button>
                            </form>`
                          : ''
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <form method="post" action="/-/tokens">
      <input type="hidden" name="csrf" value="${csrf}" />
      <fieldset>
        <legend>New token</legend>
        <label for="token-name">Name</label>
        <input type="text" id="token-name" name="name" maxlength="100" required />
        ${SCOPES.map((s) => html`<label><input type="checkbox" name="scope" value="${s}" ${s === 'read:packages' ? 'checked' : ''} /> ${s}</label>`)}
        <label for="token-days">Expires after (days)</label>
        <input type="number" id="token-days" name="days" min="1" max="3650" value="90" />
        <p><button type="submit">Create token</button></p>
      </fieldset>
    </form>`;
}
