import type { PackageView } from '../../auth/management/package-service';
import type { VersionView } from '../../auth/management/package-version-service';
import { html, type Html } from '../html';
import { packageUrl, versionUrl, type OwnerKind } from '../urls';

/** One page of a package's versions in one state. */
export interface VersionList {
  versions: VersionView[];
  /** From 1. */
  page: number;
  pages: number;
}

export interface SettingsPage {
  kind: OwnerKind;
  view: PackageView;
  /** Null when the package itself is deleted: then only its restore is offered. */
  active: VersionList | null;
  deleted: VersionList;
  csrf: string;
  flash: string | null;
}

/** A package's settings for its admins: visibility, link, delete and restore versions and the package. */
export function settingsBody(p: SettingsPage): Html {
  const full = p.view.name;
  const pages = { active: p.active?.page ?? 1, deleted: p.deleted.page };
  // Each list keeps the other's page in its links, so paging one does not reset the other.
  const pageLink = (which: 'active' | 'deleted', n: number) => {
    const q = new URLSearchParams({ package: full, kind: p.kind });
    const at = { ...pages, [which]: n };
    if (at.active > 1) q.set('page', String(at.active));
    if (at.deleted > 1) q.set('deleted_page', String(at.deleted));
    return `/-/settings?${q.toString()}`;
  };
  const paging = (which: 'active' | 'deleted', list: VersionList, label: string) =>
    list.pages > 1
      ? html`<nav class="paging" aria-label="${label}">
          ${list.page > 1 ? html`<a href="${pageLink(which, list.page - 1)}" rel="prev">Newer</a>` : ''}
          <span>Page ${list.page} of ${list.pages}</span>
          ${list.page < list.pages ? html`<a href="${pageLink(which, list.page + 1)}" rel="next">Older</a>` : ''}
        </nav>`
      : '';
  const form = (action: string, label: string, fields: Html | string = '', danger = false, ariaLabel?: string) =>
    html`<form method="post" action="/-/settings/${action}" class="inline">
      <input type="hidden" name="csrf" value="${p.csrf}" /><input type="hidden" name="package" value="${full}" />${fields}
      <button type="submit" ${danger ? html`class="danger"` : ''} ${ariaLabel ? html`aria-label="${ariaLabel}"` : ''}>${label}</button>
    </form>`;
  const versionRow = (v: VersionView, action: 'delete' | 'restore') =>
    html`<tr>
      <td class="digest"><a href="${versionUrl(p.kind, full, v.id)}">${v.digest.slice(0, 19)}</a></td>
      <td>${v.tags.join(', ')}</td>
      <td>${v.subject ? 'referrer' : v.facts.parents.length > 0 ? 'platform of an index' : 'version'}</td>
      <td>
        ${form(
          `versions/${action}`,
          action === 'delete' ? 'Delete' : 'Restore',
          html`<input type="hidden" name="id" value="${v.id}" />`,
          action === 'delete',
          // Every row has the same button: its name says which version it acts on.
          `${action === 'delete' ? 'Delete' : 'Restore'} version ${v.digest.slice(0, 19)}${v.tags.length > 0 ? ` (${v.tags.join(', ')})` : ''}`,
        )}
      </td>
    </tr>`;
  return html`<p class="muted"><a href="${packageUrl(p.kind, full)}">${full}</a> / settings</p>
    <h1>Settings of ${full}</h1>
    ${p.flash ? html`<p class="flash" role="status">${p.flash}</p>` : ''}
    ${
      p.active === null
        ? html`<p>This package is deleted.</p>
            ${form('package/restore', 'Restore the package')}`
        : html`<h2>Visibility</h2>
            <p>
              Now
              <span class="badge ${p.view.visibility}">${p.view.visibility}</span
              >${p.view.repository ? html`, following the linked repository ${p.view.repository}` : ''}.
            </p>
            ${
              p.view.repository
                ? form('unlink', 'Unlink from the repository')
                : html`${form('visibility', p.view.visibility === 'public' ? 'Make private' : 'Make public', html`<input type="hidden" name="visibility" value="${p.view.visibility === 'public' ? 'private' : 'public'}" />`)}
                  ${form(
                    'link',
                    'Link',
                    html`<label for="link-repo">Link to source repository (owner/name)</label>
                      <input type="text" id="link-repo" name="repository" required />`,
                  )}`
            }
            <h2>Versions</h2>
            <p class="muted">Deleting an index takes its platforms and the signatures and SBOMs attached to them along.</p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Digest</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Kind</th>
                  <th scope="col"><span class="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${p.active.versions.map((v) => versionRow(v, 'delete'))}
              </tbody>
            </table>
            ${paging('active', p.active, 'Version pages')}
            ${
              p.deleted.versions.length > 0 || p.deleted.page > 1
                ? html`<h2>Deleted versions</h2>
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">Digest</th>
                          <th scope="col">Tags</th>
                          <th scope="col">Kind</th>
                          <th scope="col"><span class="sr-only">Actions</span></th>
                        </tr>
                      </thead>
                      <tbody>
                        ${p.deleted.versions.map((v) => versionRow(v, 'restore'))}
                      </tbody>
                    </table>
                    ${paging('deleted', p.deleted, 'Deleted version pages')}`
                : ''
            }
            <h2>Danger zone</h2>
            ${form('package/delete', 'Delete the package', '', true)}`
    }`;
}
