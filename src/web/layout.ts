import { html, type Html } from './html';
import { SCRIPT, STYLESHEET } from './static-assets';
import type { Viewer } from './web-viewer';

export interface PageFrame {
  title: string;
  viewer: Viewer;
  /** What the header's search box shows. */
  query?: string;
  body: Html;
}

/** The frame of every page: header with the search box and the account links, then the page's own content. */
export function layout(page: PageFrame): string {
  const { principal, csrf } = page.viewer;
  const account =
    principal.kind === 'user'
      ? html`<a href="/-/account">${principal.name}</a>
          <form class="inline" method="post" action="/-/sign-out">
            <input type="hidden" name="csrf" value="${csrf ?? ''}" /><button type="submit">Sign out</button>
          </form>`
      : html`<a href="/-/sign-in">Sign in</a>`;
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · Berth</title>
        <link rel="stylesheet" href="${STYLESHEET.path}" />
        <!-- No icon: an empty one, so browsers do not ask for /favicon.ico and log its 404 on every page. -->
        <link rel="icon" href="data:," />
        <script src="${SCRIPT.path}" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Berth</a>
          <form class="search" role="search" method="get" action="/search">
            <label class="sr-only" for="q">Search packages</label>
            <input type="search" id="q" name="q" value="${page.query ?? ''}" placeholder="Search packages" />
            <button type="submit">Search</button>
          </form>
          <nav aria-label="Account">${account}</nav>
        </header>
        <main>${page.body}</main>
      </body>
    </html>`.text
  }`;
}
