import { html, safeHttpUrl, type Html } from '../html';
import { descriptors, num, str, strings } from '../image-reader';
import type { VersionPage } from '../package-pages';
import { humanSize, isoDate, packageUrl, versionUrl, type OwnerKind } from '../urls';
import { platformText } from './package-page';

/** A version: its layers and config summary for an image, its platforms for an index, and its referrers. */
export function versionBody(p: VersionPage): Html {
  const s = p.summary;
  const v = p.version;
  const kind: OwnerKind = s.owner.kind === 'org' ? 'org' : 'user';
  const layers = descriptors(p.manifest?.layers);
  const referrers = Object.entries(v.facts.referrers);
  return html`<p class="muted"><a href="${packageUrl(kind, s.fullName)}">${s.fullName}</a> / version ${v.id}</p>
    <h1 class="digest">${v.digest}</h1>
    <p>
      ${v.tags.map((t) => html`<span class="tag">${t}</span>`)}
      <span class="muted">${v.mediaType} · ${humanSize(v.facts.size)} · created ${isoDate(v.createdAt)}</span>
    </p>
    ${v.artifactType ? html`<p>Artifact type <code>${v.artifactType}</code></p>` : ''}
    ${v.facts.platform ? html`<p>Platform <strong>${platformText(v.facts.platform)}</strong></p>` : ''}
    ${v.subject ? html`<p>Refers to <code class="digest">${v.subject}</code></p>` : ''}
    ${
      v.facts.parents.length > 0
        ? html`<p>
            Part of
            ${v.facts.parents.map((l) => html`<a class="digest" href="${versionUrl(kind, s.fullName, l.id)}">${l.digest.slice(0, 19)}</a> `)}
          </p>`
        : ''
    }
    ${
      p.children.length > 0
        ? html`<h2>Platforms</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Platform</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Manifest size</th>
                </tr>
              </thead>
              <tbody>
                ${p.children.map(
                  (c) =>
                    html`<tr>
                      <td>${platformText(c.platform)}</td>
                      <td class="digest">
                        ${c.id !== null ? html`<a href="${versionUrl(kind, s.fullName, c.id)}">${c.digest}</a>` : c.digest}
                      </td>
                      <td>${humanSize(c.size)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }
    ${
      layers.length > 0
        ? html`<h2>Layers</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Media type</th>
                  <th scope="col">Size</th>
                </tr>
              </thead>
              <tbody>
                ${layers.map(
                  (l, i) =>
                    html`<tr>
                      <td>${i + 1}</td>
                      <td class="digest">${str(l.digest)}</td>
                      <td>${str(l.mediaType)}</td>
                      <td>${humanSize(num(l.size))}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
            <p class="muted">${humanSize(layers.reduce((sum, l) => sum + num(l.size), 0))} compressed in all.</p>`
        : ''
    }
    ${configSummary(p)}
    <h2>Referrers</h2>
    ${
      referrers.length > 0
        ? html`<ul>
            ${referrers.map(
              ([type, refs]) =>
                html`<li>
                  <code>${type}</code>:
                  ${refs.map((r) => html`<a class="digest" href="${versionUrl(kind, s.fullName, r.id)}">${r.digest.slice(0, 19)}</a> `)}
                </li>`,
            )}
          </ul>`
        : html`<p class="muted">No signatures, SBOMs or attestations.</p>`
    }`;
}

function configSummary(p: VersionPage): Html {
  const c = p.config;
  if (!c) return html``;
  const cfg = c.config ?? {};
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : []);
  // Environment values may hold secrets a pusher baked in: names only.
  const envNames = list(cfg.Env).map((e) => e.split('=')[0] ?? '');
  const ports = typeof cfg.ExposedPorts === 'object' && cfg.ExposedPorts !== null ? Object.keys(cfg.ExposedPorts) : [];
  const labels = Object.entries(strings(cfg.Labels));
  const history = Array.isArray(c.history)
    ? (c.history as unknown[]).filter((h): h is Record<string, unknown> => typeof h === 'object' && h !== null)
    : [];
  return html`<h2>Configuration</h2>
    <dl>
      <dt>Platform</dt>
      <dd>${[str(c.os), str(c.architecture)].filter(Boolean).join('/') || 'not stated'}</dd>
      <dt>Entrypoint</dt>
      <dd>
        ${list(cfg.Entrypoint).length > 0 ? html`<code>${JSON.stringify(list(cfg.Entrypoint))}</code>` : html`<span class="muted">none</span>`}
      </dd>
      <dt>Command</dt>
      <dd>${list(cfg.Cmd).length > 0 ? html`<code>${JSON.stringify(list(cfg.Cmd))}</code>` : html`<span class="muted">none</span>`}</dd>
      <dt>Environment (names)</dt>
      <dd>${envNames.length > 0 ? envNames.map((n) => html`<code>${n}</code> `) : html`<span class="muted">none</span>`}</dd>
      <dt>Exposed ports</dt>
      <dd>${ports.length > 0 ? ports.map((n) => html`<code>${n}</code> `) : html`<span class="muted">none</span>`}</dd>
    </dl>
    ${
      labels.length > 0
        ? html`<h3>Labels</h3>
            <table>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                ${labels.map(
                  ([k, value]) =>
                    html`<tr>
                      <td>${k}</td>
                      <td>${labelValue(value)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }
    ${
      history.length > 0
        ? html`<h3>History</h3>
            <ol>
              ${history.map(
                (h) =>
                  html`<li>
                    <code>${redactValues(str(h.created_by)) || '(no command)'}</code
                    >${h.empty_layer === true ? html` <span class="muted">(no layer)</span>` : ''}
                  </li>`,
              )}
            </ol>`
        : ''
    }`;
}

/** A label value is text; an http(s) URL becomes a link, nothing else does. */
function labelValue(value: string): Html {
  const url = safeHttpUrl(value);
  return url && url === value.trim() ? html`<a href="${url}" rel="nofollow noopener">${value}</a>` : html`${value}`;
}

/**
 * A history step with the values of ENV and of build arguments (`RUN |2 A=x B=y …`) cut out: a
 * Dockerfile's `ENV TOKEN=…` is recorded there in full, and the page shows environment names only.
 */
export function redactValues(createdBy: string): string {
  const assignment = /([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g;
  const env = /^(.*?(?:#\(nop\)\s*)?\bENV\s+)(.*)$/s.exec(createdBy);
  if (env) return env[1] + env[2]!.replace(assignment, '$1=…').replace(/^([A-Za-z_][A-Za-z0-9_]*)\s+\S.*$/s, '$1 …');
  const args = /^(RUN \|\d+ )((?:[A-Za-z_][A-Za-z0-9_]*=(?:"(?:[^"\\]|\\.)*"|\S+)\s+)*)(.*)$/s.exec(createdBy);
  if (args && args[2]) return args[1] + args[2].replace(assignment, '$1=…') + args[3];
  return createdBy;
}
