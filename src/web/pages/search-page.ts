import type { SearchPage } from '../../search/search-service';
import { html, type Html } from '../html';
import { counted, isoDate, ownerUrl, packageUrl } from '../urls';

export const SEARCH_PER_PAGE = 30;

/** The home page: a search box, and the same results list as /search for an empty query (recent packages). */
export function homeBody(recent: SearchPage): Html {
  return html`<h1>Find a container image</h1>
    <form method="get" action="/search" role="search" class="pull">
      <label for="home-q">Search public packages and those you may see</label>
      <input type="search" id="home-q" name="q" placeholder="name, label:key=value, org:acme, platform:linux/arm64" />
      <button type="submit">Search</button>
    </form>
    <h2>Packages</h2>
    ${results(html`<p class="muted" id="search-count" role="status">Recently updated packages you may see.</p>`, resultList(recent))}`;
}

/** /search?q=: linkable results, with previous and next links. */
export function searchBody(q: string, page: number, result: SearchPage): Html {
  const pages = Math.max(1, Math.ceil(result.total / SEARCH_PER_PAGE));
  const link = (p: number) => `/search?q=${encodeURIComponent(q)}&page=${p}`;
  return html`<h1>Search results</h1>
    ${results(
      html`<p class="muted" id="search-count" role="status">
        ${counted(result.total, 'package')} found${q ? html` for <q>${q}</q>` : ''}.
      </p>`,
      html`${resultList(result)}
      ${
        pages > 1
          ? html`<nav class="paging" aria-label="Result pages">
              ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">Previous</a>` : ''}
              <span>Page ${page} of ${pages}</span>
              ${page < pages ? html`<a href="${link(page + 1)}" rel="next">Next</a>` : ''}
            </nav>`
          : ''
      }`,
    )}`;
}

/**
 * The results region: what berth.js replaces as the viewer types (live search). Without script
 * the search box submits its form and this is the server's list; the count announces itself.
 */
function results(count: Html, list: Html): Html {
  return html`<div id="search-results" data-live-results>${count}${list}</div>`;
}

function resultList(result: SearchPage): Html {
  if (result.hits.length === 0) return html`<p>No packages match.</p>`;
  return html`<ul class="results">
    ${result.hits.map(
      (hit) =>
        html`<li>
          <a class="name" href="${packageUrl(hit.ownerKind, hit.name)}">${hit.name}</a>
          <span class="badge ${hit.visibility}">${hit.visibility}</span>
          ${hit.description ? html`<div class="description">${hit.description}</div>` : ''}
          <div class="meta">
            <span>Owner <a href="${ownerUrl(hit.ownerKind, hit.owner)}">${hit.owner}</a></span>
            ${hit.latestTag ? html`<span>Latest tag <span class="tag">${hit.latestTag}</span></span>` : ''}
            <span>Updated <time datetime="${new Date(hit.updatedAt).toISOString()}">${isoDate(hit.updatedAt)}</time></span>
            <span>${counted(hit.downloads, 'download')} (30 days)</span>
          </div>
        </li>`,
    )}
  </ul>`;
}
