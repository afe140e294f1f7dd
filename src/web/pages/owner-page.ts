import { html, type Html } from '../html';
import type { OwnerPage } from '../owner-pages';
import { counted, isoDate, ownerUrl, packageUrl } from '../urls';

/** An organisation's or user's packages (filters and sorts as a GET form, so links keep them), members and repositories. */
export function ownerBody(p: OwnerPage, manage: MemberForms | null, flash: string | null): Html {
  const { owner, filter } = p;
  const here = ownerUrl(owner.kind, owner.name);
  const query = (page: number) => {
    const q = new URLSearchParams();
    if (filter.visibility) q.set('visibility', filter.visibility);
    if (filter.repository) q.set('repo', filter.repository);
    if (filter.tagged !== undefined) q.set('tagged', filter.tagged ? 'yes' : 'no');
    q.set('sort', filter.sort);
    q.set('page', String(page));
    return `${here}?${q.toString()}`;
  };
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}" ${value === (current ?? '') ? 'selected' : ''}>${label}</option>`;
  return html`<h1>${owner.name} <span class="muted">${owner.kind === 'org' ? 'organisation' : 'user'}</span></h1>
    ${flash ? html`<p class="flash" role="status">${flash}</p>` : ''}
    <div class="grid">
      <section aria-labelledby="packages">
        <h2 id="packages">Packages</h2>
        <form method="get" action="${here}" class="pull">
          <label for="f-visibility">Visibility</label>
          <select id="f-visibility" name="visibility">
            ${option('', 'All', filter.visibility)}${option('public', 'Public', filter.visibility)}${option('private', 'Private', filter.visibility)}
          </select>
          <label for="f-tagged">Tags</label>
          <select id="f-tagged" name="tagged">
            ${option('', 'All', filter.tagged === undefined ? '' : filter.tagged ? 'yes' : 'no')}
            ${option('yes', 'Tagged', filter.tagged === undefined ? '' : filter.tagged ? 'yes' : 'no')}
            ${option('no', 'Untagged', filter.tagged === undefined ? '' : filter.tagged ? 'yes' : 'no')}
          </select>
          <label for="f-repo">Repository</label>
          <select id="f-repo" name="repo">
            ${option('', 'Any', filter.repository)}
            ${p.repositories.map((r) => option(`${r.owner}/${r.name}`, `${r.owner}/${r.name}`, filter.repository))}
          </select>
          <label for="f-sort">Sort</label>
          <select id="f-sort" name="sort">
            ${option('updated', 'Recently updated', filter.sort)}${option('downloads', 'Downloads', filter.sort)}${option('name', 'Name', filter.sort)}
          </select>
          <button type="submit">Apply</button>
        </form>
        <p class="muted">${counted(p.total, 'package')}</p>
        ${
          p.packages.length === 0
            ? html`<p>No packages match.</p>`
            : html`<ul class="results">
                ${p.packages.map(
                  (h) =>
                    html`<li>
                      <a class="name" href="${packageUrl(h.ownerKind, h.name)}">${h.name}</a>
                      <span class="badge ${h.visibility}">${h.visibility}</span>
                      ${h.description ? html`<div class="description">${h.description}</div>` : ''}
                      <div class="meta">
                        ${h.latestTag ? html`<span>Latest tag <span class="tag">${h.latestTag}</span></span>` : html`<span>untagged</span>`}
                        <span>Updated ${isoDate(h.updatedAt)}</span>
                        <span>${counted(h.downloads, 'download')} (30 days)</span>
                      </div>
                    </li>`,
                )}
              </ul>`
        }
        ${
          p.pages > 1
            ? html`<nav class="paging" aria-label="Package pages">
                ${filter.page > 1 ? html`<a href="${query(filter.page - 1)}" rel="prev">Previous</a>` : ''}
                <span>Page ${filter.page} of ${p.pages}</span>
                ${filter.page < p.pages ? html`<a href="${query(filter.page + 1)}" rel="next">Next</a>` : ''}
              </nav>`
            : ''
        }
      </section>
      <aside>
        ${p.members ? membersSection(p.owner.name, p.members, manage) : ''}
        <h2>Source repositories</h2>
        ${
          p.repositories.length > 0
            ? html`<ul>
                ${p.repositories.map(
                  (r) =>
                    html`<li>
                      ${r.owner}/${r.name} <span class="badge ${r.visibility}">${r.visibility}</span>
                      ${r.role === 'admin' ? html`<a href="/-/repositories?repository=${encodeURIComponent(`${r.owner}/${r.name}`)}">settings</a>` : ''}
                    </li>`,
                )}
              </ul>`
            : html`<p class="muted">None you may see.</p>`
        }
      </aside>
    </div>`;
}

/** For an organisation's owners: the CSRF token their member forms carry. */
export interface MemberForms {
  csrf: string;
}

function membersSection(org: string, members: ReadonlyArray<{ name: string; role: string }>, manage: MemberForms | null): Html {
  const form = (fields: Html, label: string, danger = false) =>
    html`<form method="post" action="/-/orgs/members" class="inline">
      <input type="hidden" name="csrf" value="${manage?.csrf ?? ''}" /><input type="hidden" name="org" value="${org}" />${fields}
      <button type="submit" ${danger ? html`class="danger"` : ''}>${label}</button>
    </form>`;
  return html`${manage ? html`<p><a href="/-/hooks?scope=${encodeURIComponent(`org:${org}`)}">Webhooks</a> of ${org}</p>` : ''}
    <h2>Members</h2>
    <ul>
      ${members.map(
        (m) =>
          html`<li>
            ${m.name} <span class="muted">${m.role}</span>
            ${
              manage
                ? form(
                    html`<input type="hidden" name="user" value="${m.name}" /><input type="hidden" name="role" value="" />`,
                    `Remove ${m.name}`,
                    true,
                  )
                : ''
            }
          </li>`,
      )}
    </ul>
    ${
      manage
        ? form(
            html`<label for="member-user">User</label><input type="text" id="member-user" name="user" required />
              <label for="member-role">Role</label>
              <select id="member-role" name="role">
                <option value="member">member</option>
                <option value="owner">owner</option>
              </select>`,
            'Add or change member',
          )
        : ''
    }`;
}
