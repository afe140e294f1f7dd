import type { Platform } from '../../metadata/versions';
import { downloadChart } from '../download-chart';
import { html, type Html } from '../html';
import type { PackagePage, VersionNode } from '../package-pages';
import { sourceLinks } from '../source-links';
import { counted, humanSize, isoDate, ownerUrl, packageUrl, settingsUrl, versionUrl, type OwnerKind } from '../urls';

const DESCRIPTION = 'org.opencontainers.image.description';
const LICENSES = 'org.opencontainers.image.licenses';
const SOURCE = 'org.opencontainers.image.source';
const REVISION = 'org.opencontainers.image.revision';

export function platformText(p: Platform | null): string {
  if (!p) return 'unknown platform';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The package page: what it is, how to pull it, its versions as a tree, its downloads. */
export function packageBody(p: PackagePage, host: string, mayManage: boolean): Html {
  const s = p.summary;
  const kind: OwnerKind = s.owner.kind === 'org' ? 'org' : 'user';
  const links = sourceLinks(p.labels[SOURCE], p.labels[REVISION]);
  const reference = p.tag !== null ? `:${p.tag}` : p.digest ? `@${p.digest}` : '';
  const pull = `docker pull ${host}/${s.fullName}${reference}`;
  const here = packageUrl(kind, s.fullName);
  const pageLink = (n: number) => `${here}?page=${n}${p.tag ? `&tag=${encodeURIComponent(p.tag)}` : ''}`;
  return html`<div class="grid">
    <div>
      <p class="muted"><a href="${ownerUrl(kind, s.owner.name)}">${s.owner.name}</a> / package</p>
      <h1>${s.name} <span class="badge ${s.visibility}">${s.visibility}</span></h1>
      ${p.labels[DESCRIPTION] ? html`<p class="description">${p.labels[DESCRIPTION]}</p>` : html`<p class="muted">No description.</p>`}
      <section aria-labelledby="install">
        <h2 id="install">Install</h2>
        <div class="pull">
          <code id="pull-command">${pull}</code>
          <button type="button" data-copy="pull-command" hidden>Copy</button>
        </div>
        ${
          p.tags.length > 1
            ? html`<form method="get" action="${here}" class="pull">
                <label for="tag-picker">Tag</label>
                <select id="tag-picker" name="tag" data-pull-tag="pull-command">
                  ${p.tags.map((t) => html`<option value="${t}" ${t === p.tag ? 'selected' : ''}>${t}</option>`)}
                </select>
                <button type="submit">Show</button>
              </form>`
            : ''
        }
      </section>
      <section aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <p class="muted">${counted(s.versionCount, 'version')} in all (images, platforms and their signatures, SBOMs and attestations).</p>
        ${
          p.roots.length > 0
            ? html`<ul class="tree">
                ${p.roots.map((n) => treeNode(kind, s.fullName, n))}
              </ul>`
            : html`<p>No versions on this page.</p>`
        }
        ${
          p.pages > 1
            ? html`<nav class="paging" aria-label="Version pages">
                ${p.page > 1 ? html`<a href="${pageLink(p.page - 1)}" rel="prev">Newer</a>` : ''}
                <span>Page ${p.page} of ${p.pages}</span>
                ${p.page < p.pages ? html`<a href="${pageLink(p.page + 1)}" rel="next">Older</a>` : ''}
              </nav>`
            : ''
        }
      </section>
    </div>
    <aside>
      <h2>About</h2>
      <dl>
        <dt>Licence</dt>
        <dd>${p.labels[LICENSES] ?? html`<span class="muted">not stated</span>`}</dd>
        <dt>Source</dt>
        <dd>
          ${links.source ? html`<a href="${links.source}" rel="nofollow noopener">${links.source}</a>` : (p.labels[SOURCE] ?? html`<span class="muted">not stated</span>`)}
        </dd>
        ${
          p.labels[REVISION]
            ? html`<dt>Revision</dt>
                <dd class="digest">
                  ${links.commit ? html`<a href="${links.commit}" rel="nofollow noopener">${p.labels[REVISION]}</a>` : p.labels[REVISION]}
                </dd>`
            : ''
        }
        <dt>Linked repository</dt>
        <dd>${s.repository ? s.repository.fullName : html`<span class="muted">none</span>`}</dd>
        <dt>Created</dt>
        <dd><time datetime="${new Date(s.createdAt).toISOString()}">${isoDate(s.createdAt)}</time></dd>
        <dt>Updated</dt>
        <dd><time datetime="${new Date(s.updatedAt).toISOString()}">${isoDate(s.updatedAt)}</time></dd>
        <dt>Downloads</dt>
        <dd>${counted(p.downloads.total, 'download')} in all</dd>
      </dl>
      <h3>Last 30 days</h3>
      ${downloadChart(p.downloads.daily)}
      ${
        p.tags.length > 0
          ? html`<h3>Tags</h3>
              <p>${p.tags.map((t) => html`<span class="tag">${t}</span> `)}</p>`
          : ''
      }
      ${mayManage ? html`<p><a href="${settingsUrl(kind, s.fullName)}">Package settings</a></p>` : ''}
    </aside>
  </div>`;
}

function treeNode(kind: OwnerKind, fullName: string, node: VersionNode): Html {
  const v = node.version;
  const groups = Object.entries(node.facts.referrers);
  const label = node.platform ? platformText(node.platform) : v.tags.length > 0 ? '' : 'untagged';
  return html`<li>
    <a class="digest" href="${versionUrl(kind, fullName, v.id)}">${v.digest.slice(0, 19)}</a>
    ${label ? html`<strong>${label}</strong>` : ''} ${v.tags.map((t) => html`<span class="tag">${t}</span>`)}
    <span class="muted">${kindOf(v.mediaType, node.children.length)} · ${humanSize(node.facts.size)} · ${isoDate(v.createdAt)}</span>
    ${
      node.children.length > 0 || groups.length > 0
        ? html`<ul>
            ${node.children.map((c) => treeNode(kind, fullName, c))}
            ${groups.map(
              ([type, refs]) =>
                html`<li>
                  <span>${artifactLabel(type)}</span> <span class="muted">${type}</span>
                  <ul>
                    ${refs.map((r) => html`<li><a class="digest" href="${versionUrl(kind, fullName, r.id)}">${r.digest.slice(0, 19)}</a></li>`)}
                  </ul>
                </li>`,
            )}
          </ul>`
        : ''
    }
  </li>`;
}

function kindOf(mediaType: string, children: number): string {
  if (children > 0 || /index|manifest\.list/.test(mediaType)) return `index of ${counted(children, 'manifest')}`;
  return 'image';
}

/** What people call a referrer's artifact type. */
function artifactLabel(type: string): string {
  if (/cosign|signature|notation|notary/i.test(type)) return 'Signature';
  if (/spdx|cyclonedx|sbom|syft/i.test(type)) return 'SBOM';
  if (/in-toto|attestation|provenance|slsa/i.test(type)) return 'Attestation';
  return 'Artifact';
}
