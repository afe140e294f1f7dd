import type { DeliveryAttempt, Hook } from '../../webhooks/hook-store';
import { HOOK_EVENTS } from '../../webhooks/hook-service';
import { html, type Html } from '../html';

/** Whose hooks a page manages, as its links and forms name it (`org:acme`, `repo:acme/src`, `instance`). */
export interface HookScopeView {
  /** The `scope` field of every link and form. */
  param: string;
  /** `the organisation acme`, `the repository acme/src`, `every package (instance)`. */
  label: string;
  /** Where the owner's own page is, for the breadcrumb; null for the instance. */
  home: { href: string; text: string } | null;
}

/** What the events checkboxes say. */
const EVENT_LABELS: Readonly<Record<(typeof HOOK_EVENTS)[number], string>> = {
  '*': 'Every event',
  package: 'package (GitHub’s event: a version published or updated)',
  ping: 'ping',
  berth_package: 'berth_package (changes to a package)',
  berth_package_version: 'berth_package_version (changes to a version)',
  berth_tag: 'berth_tag (changes to a tag)',
};

export function hooksUrl(scope: HookScopeView, hookId?: number, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ scope: scope.param, ...extra });
  return `/-/hooks${hookId === undefined ? '' : `/${hookId}`}?${q.toString()}`;
}

export function deliveryUrl(scope: HookScopeView, hookId: number, attemptId: number): string {
  return `/-/hooks/${hookId}/deliveries/${attemptId}?${new URLSearchParams({ scope: scope.param }).toString()}`;
}

function crumbs(scope: HookScopeView, hook?: Hook): Html {
  return html`<p class="muted">
    ${scope.home ? html`<a href="${scope.home.href}">${scope.home.text}</a> / ` : ''}<a href="${hooksUrl(scope)}">webhooks</a
    >${hook ? html` / hook ${hook.id}` : ''}
  </p>`;
}

const flashOf = (flash: string | null) => (flash ? html`<p class="flash" role="status">${flash}</p>` : '');

/** A POST form carrying the CSRF token and the scope; `fields` and the button inside. */
function postForm(action: string, csrf: string, scope: HookScopeView, fields: Html, button: Html, inline = true): Html {
  return html`<form method="post" action="/-/hooks/${action}" ${inline ? html`class="inline"` : ''}>
    <input type="hidden" name="csrf" value="${csrf}" /><input type="hidden" name="scope" value="${scope.param}" />${fields}${button}
  </form>`;
}

function status(hook: Hook): Html {
  if (hook.active) return html`<span class="badge public">active</span>`;
  return html`<span class="badge private">inactive</span
    >${hook.disabledReason ? html` <span class="muted">${hook.disabledReason}</span>` : ''}`;
}

/** The hook's settings as form fields; `hook` absent: a new hook's defaults. The secret is write-only: never shown. */
function settingsFields(hook: Hook | null): Html {
  const events = new Set(hook?.events ?? ['package']);
  const id = hook ? `hook-${hook.id}` : 'new-hook';
  return html`<label for="${id}-url">Payload URL</label>
    <input type="text" id="${id}-url" name="url" value="${hook?.url ?? ''}" required placeholder="https://example.com/hooks" />
    <label for="${id}-secret">Secret${hook ? (hook.secret !== null ? ' (one is set: leave empty to keep it)' : ' (none set)') : ''}</label>
    <input type="password" id="${id}-secret" name="secret" autocomplete="new-password" />
    ${hook && hook.secret !== null ? html`<label><input type="checkbox" name="clear_secret" value="yes" /> Remove the secret</label>` : ''}
    <label for="${id}-type">Content type</label>
    <select id="${id}-type" name="content_type">
      <option value="json" ${hook?.contentType !== 'form' ? 'selected' : ''}>application/json</option>
      <option value="form" ${hook?.contentType === 'form' ? 'selected' : ''}>application/x-www-form-urlencoded</option>
    </select>
    <fieldset>
      <legend>Events</legend>
      ${HOOK_EVENTS.map(
        (e) =>
          html`<label><input type="checkbox" name="events" value="${e}" ${events.has(e) ? 'checked' : ''} /> ${EVENT_LABELS[e]}</label>`,
      )}
    </fieldset>
    <label for="${id}-package-glob">Only packages named (glob, <code>*</code> any run of characters; empty: all)</label>
    <input type="text" id="${id}-package-glob" name="package_glob" value="${hook?.packageGlob ?? ''}" />
    <label for="${id}-tag-glob">Only tags (glob; empty: all)</label>
    <input type="text" id="${id}-tag-glob" name="tag_glob" value="${hook?.tagGlob ?? ''}" />
    <label><input type="checkbox" name="active" value="yes" ${hook?.active === false ? '' : 'checked'} /> Active</label>`;
}

/** An owner's hooks, with the form that adds one. */
export function hookListBody(scope: HookScopeView, hooks: readonly Hook[], csrf: string, flash: string | null): Html {
  return html`${crumbs(scope)}
    <h1>Webhooks of ${scope.label}</h1>
    ${flashOf(flash)}
    ${
      hooks.length === 0
        ? html`<p class="muted">No webhooks yet.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Payload URL</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              ${hooks.map(
                (h) =>
                  html`<tr>
                    <td><a href="${hooksUrl(scope, h.id)}">${h.url}</a></td>
                    <td>${h.events.join(', ')}</td>
                    <td>${status(h)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${postForm(
      'create',
      csrf,
      scope,
      html`<fieldset>
        <legend>New webhook</legend>
        ${settingsFields(null)}
      </fieldset>`,
      html`<p><button type="submit">Add webhook</button></p>`,
      false,
    )}`;
}

/** One hook: its settings to edit, ping and delete, and the delivery log (newest first, `older` the next page's cursor). */
export function hookBody(
  scope: HookScopeView,
  hook: Hook,
  log: { attempts: readonly DeliveryAttempt[]; older: number | null },
  csrf: string,
  flash: string | null,
): Html {
  const idField = html`<input type="hidden" name="id" value="${hook.id}" />`;
  return html`${crumbs(scope, hook)}
    <h1>Webhook ${hook.id} ${status(hook)}</h1>
    <p class="digest">${hook.url}</p>
    ${flashOf(flash)}
    <div class="grid">
      <section aria-labelledby="deliveries">
        <h2 id="deliveries">Recent deliveries</h2>
        ${
          log.attempts.length === 0
            ? html`<p class="muted">None yet.</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Event</th>
                    <th scope="col">Result</th>
                    <th scope="col">Time</th>
                    <th scope="col">Delivery</th>
                  </tr>
                </thead>
                <tbody>
                  ${log.attempts.map(
                    (a) =>
                      html`<tr>
                        <td>
                          <time datetime="${new Date(a.at).toISOString()}"
                            >${new Date(a.at).toISOString().replace('T', ' ').slice(0, 19)}</time
                          >
                        </td>
                        <td>
                          ${a.event}${a.action ? `.${a.action}` : ''}${a.redelivery ? html` <span class="muted">(redelivery)</span>` : ''}
                        </td>
                        <td>${resultText(a)}</td>
                        <td>${a.durationMs} ms</td>
                        <td>
                          <a
                            class="digest"
                            href="${deliveryUrl(scope, hook.id, a.id)}"
                            aria-label="Delivery ${a.guid}, attempt ${a.attempt}"
                            >${a.guid.slice(0, 8)}</a
                          >
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
        ${
          log.older !== null
            ? html`<nav class="paging" aria-label="Delivery pages">
                <a href="${hooksUrl(scope, hook.id, { before: String(log.older) })}" rel="next">Older deliveries</a>
              </nav>`
            : ''
        }
        ${postForm('ping', csrf, scope, idField, html`<button type="submit">Send a ping</button>`)}
      </section>
      <section aria-labelledby="hook-settings">
        <h2 id="hook-settings">Settings</h2>
        ${postForm('update', csrf, scope, html`${idField}${settingsFields(hook)}`, html`<p><button type="submit">Save</button></p>`, false)}
        <h2>Danger zone</h2>
        ${postForm('delete', csrf, scope, idField, html`<button type="submit" class="danger">Delete this webhook</button>`)}
      </section>
    </div>`;
}

function resultText(a: DeliveryAttempt): string {
  return a.statusCode > 0 ? `${a.statusCode} ${a.status}` : a.status;
}

/** One logged attempt: the request as sent and the response as received (both a receiver's or Berth's text: escaped). */
export function deliveryBody(scope: HookScopeView, hook: Hook, a: DeliveryAttempt, csrf: string): Html {
  const headers = (h: Record<string, string>, caption: string) => {
    const entries = Object.entries(h);
    return entries.length === 0
      ? html`<p class="muted">No headers.</p>`
      : html`<table>
          <caption class="sr-only">
            ${caption}
          </caption>
          <tbody>
            ${entries.map(
              ([k, v]) =>
                html`<tr>
                  <th scope="row">${k}</th>
                  <td class="digest">${v}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  };
  return html`${crumbs(scope, hook)}
    <h1>Delivery <span class="digest">${a.guid}</span></h1>
    <dl>
      <dt>Event</dt>
      <dd>${a.event}${a.action ? `.${a.action}` : ''}</dd>
      <dt>Attempt</dt>
      <dd>${a.attempt}${a.redelivery ? ' (redelivery)' : ''}</dd>
      <dt>When</dt>
      <dd><time datetime="${new Date(a.at).toISOString()}">${new Date(a.at).toISOString()}</time></dd>
      <dt>Result</dt>
      <dd>${resultText(a)}, in ${a.durationMs} ms</dd>
    </dl>
    ${postForm(
      'redeliver',
      csrf,
      scope,
      html`<input type="hidden" name="id" value="${hook.id}" /><input type="hidden" name="attempt" value="${a.id}" />`,
      html`<button type="submit">Redeliver</button>`,
    )}
    <h2>Request</h2>
    ${headers(a.requestHeaders, 'Request headers')}
    <pre>${a.requestBody}</pre>
    <h2>Response</h2>
    ${headers(a.responseHeaders, 'Response headers')}
    ${a.responseBody ? html`<pre>${a.responseBody}</pre>` : html`<p class="muted">No body.</p>`}`;
}
