import type { CollaboratorView, RepositoryView } from '../../auth/management/repository-service';
import { html, type Html } from '../html';
import { ownerUrl } from '../urls';

/** A source repository's settings, for its admins: visibility and collaborators. */
export function repositoryBody(
  r: RepositoryView,
  ownerKind: 'user' | 'org',
  collaborators: CollaboratorView[],
  csrf: string,
  flash: string | null,
): Html {
  const full = `${r.owner}/${r.name}`;
  const form = (action: string, fields: Html, label: string, danger = false) =>
    html`<form method="post" action="/-/repositories/${action}" class="inline">
      <input type="hidden" name="csrf" value="${csrf}" /><input type="hidden" name="repository" value="${full}" />${fields}
      <button type="submit" ${danger ? html`class="danger"` : ''}>${label}</button>
    </form>`;
  return html`<p class="muted"><a href="${ownerUrl(ownerKind, r.owner)}">${r.owner}</a> / repository</p>
    <h1>${full} <span class="badge ${r.visibility}">${r.visibility}</span></h1>
    ${flash ? html`<p class="flash" role="status">${flash}</p>` : ''}
    <h2>Visibility</h2>
    <p>Packages linked to this repository follow its visibility.</p>
    ${form(
      'visibility',
      html`<input type="hidden" name="visibility" value="${r.visibility === 'public' ? 'private' : 'public'}" />`,
      r.visibility === 'public' ? 'Make private' : 'Make public',
    )}
    <p><a href="/-/hooks?scope=${encodeURIComponent(`repo:${full}`)}">Webhooks</a> of this repository</p>
    <h2>Collaborators</h2>
    ${
      collaborators.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<ul>
            ${collaborators.map(
              (c) =>
                html`<li>
                  ${c.name} <span class="muted">${c.role}</span>
                  ${form(
                    'collaborators',
                    html`<input type="hidden" name="user" value="${c.name}" /><input type="hidden" name="role" value="" />`,
                    `Remove ${c.name}`,
                    true,
                  )}
                </li>`,
            )}
          </ul>`
    }
    ${form(
      'collaborators',
      html`<label for="collaborator-user">User</label><input type="text" id="collaborator-user" name="user" required />
        <label for="collaborator-role">Role</label>
        <select id="collaborator-role" name="role">
          <option value="read">read</option>
          <option value="write">write</option>
          <option value="admin">admin</option>
        </select>`,
      'Add or change collaborator',
    )}`;
}
