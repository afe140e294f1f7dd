import { createHash } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import express from 'express';

/**
 * The one stylesheet and the one script, served by Berth itself (nothing from
 * the internet) under /-/static/, a prefix no package, /v2 or /api path can
 * take (OCI name components never start with `-`). Each URL carries a hash
 * of the content, so it may be cached for a year: a new build is a new URL.
 */
export const STATIC_PREFIX = '/-/static';

const CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--link:#0550ae;--pub:#1a7f37;--priv:#9a6700}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}
a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #0969da;outline-offset:2px}
header.top{display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;border-bottom:1px solid var(--line);background:var(--soft)}
header.top .brand{font-weight:700;font-size:1.1rem;text-decoration:none;color:var(--fg)}
header.top form.search{flex:1;display:flex;gap:.4rem;max-width:36rem}
header.top nav{margin-left:auto;display:flex;gap:.8rem;align-items:center}
main{max-width:72rem;margin:0 auto;padding:1.2rem}
input[type=search],input[type=text],input[type=password],input[type=number],select{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;min-width:0}
input[type=search]{flex:1}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--line);border-radius:6px;background:var(--soft);cursor:pointer}
button.danger{color:#a40e26;border-color:#a40e26}
.inline{display:inline}
.badge{display:inline-block;font-size:.75rem;padding:0 .45rem;border:1px solid currentColor;border-radius:1rem;vertical-align:middle}
.badge.public{color:var(--pub)}.badge.private{color:var(--priv)}
.muted{color:var(--muted)}
ul.results{list-style:none;padding:0}
ul.results li{padding:.7rem 0;border-bottom:1px solid var(--line)}
ul.results .name{font-weight:600;font-size:1.05rem}
.meta{color:var(--muted);font-size:.85rem;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
.pull{display:flex;gap:.4rem;align-items:center;flex-wrap:wrap}
.pull code{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.35rem .5rem;overflow-wrap:anywhere}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:var(--soft);padding:.6rem;border-radius:6px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.description{white-space:pre-wrap;overflow-wrap:anywhere}
dd{overflow-wrap:anywhere;margin-left:1rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
ul.tree{list-style:none;padding-left:0}
ul.tree ul{list-style:none;padding-left:1.4rem;border-left:2px solid var(--line);margin:.2rem 0 .2rem .4rem}
ul.tree li{margin:.25rem 0}
.digest{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}
.tag{display:inline-block;background:#ddf4ff;border-radius:1rem;padding:0 .5rem;font-size:.8rem;margin-right:.2rem}
.grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,1fr);gap:1.5rem}
@media (max-width:50rem){.grid{grid-template-columns:1fr}}
nav.paging{display:flex;gap:1rem;margin:1rem 0}
figure.chart{margin:0;max-width:18rem}
figure.chart svg{width:100%;height:auto}
figure.chart rect{fill:#0969da}
figure.chart line.axis{stroke:var(--muted);stroke-width:1}
figure.chart text{fill:var(--muted);font-size:9px}
figure.chart figcaption{font-size:.85rem;color:var(--muted)}
.flash{padding:.6rem;border:1px solid #1a7f37;background:#dafbe1;border-radius:6px}
.error{padding:.6rem;border:1px solid #a40e26;background:#ffebe9;border-radius:6px}
fieldset{border:1px solid var(--line);border-radius:6px;margin:1rem 0}
label{display:block;margin:.4rem 0}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

/**
 * Enhancements only; every page works without them. Copy buttons: each `button[data-copy]` copies
 * the text of the element its value names. The tag picker rewrites the pull command. Live search:
 * where a page has a `[data-live-results]` region (home, /search), typing in a search box asks the
 * search API (same origin, the session cookie) and redraws the region from the JSON with text
 * nodes only (a pusher's description never becomes markup); the address becomes the linkable
 * /search?q= of what is shown. Answers that arrive after a later query's are dropped.
 */
const JS = `'use strict';
var LIVE_PER_PAGE = 30;
function liveSearch(region) {
  var inputs = document.querySelectorAll('input[type=search][name=q]');
  var timer = null;
  var asked = 0;
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function counted(n, noun) {
    return n.toLocaleString('en-US') + ' ' + noun + (n === 1 ? '' : 's');
  }
  function item(hit) {
    var path = new URL(hit.html_url, location.href).pathname;
    var owner = path.split('/').slice(0, 4).join('/');
    var meta = [el('span', {}, ['Owner ', el('a', { href: owner }, [hit.owner])])];
    if (hit.latest_tag) meta.push(el('span', {}, ['Latest tag ', el('span', { class: 'tag' }, [hit.latest_tag])]));
    meta.push(el('span', {}, ['Updated ', el('time', { datetime: hit.updated_at }, [hit.updated_at.slice(0, 10)])]));
    meta.push(el('span', {}, [counted(hit.downloads, 'download') + ' (30 days)']));
    var parts = [el('a', { class: 'name', href: path }, [hit.name]), ' ', el('span', { class: 'badge ' + hit.visibility }, [hit.visibility])];
    if (hit.description) parts.push(el('div', { class: 'description' }, [hit.description]));
    parts.push(el('div', { class: 'meta' }, meta));
    return el('li', {}, parts);
  }
  function draw(q, body) {
    var total = body.total_count;
    var count = el('p', { class: 'muted', id: 'search-count', role: 'status' }, [counted(total, 'package') + ' found']);
    if (q) count.append(' for ', el('q', {}, [q]));
    count.append('.');
    var list = body.items.length === 0 ? el('p', {}, ['No packages match.']) : el('ul', { class: 'results' }, body.items.map(item));
    var nodes = [count, list];
    if (total > LIVE_PER_PAGE) {
      var pages = Math.ceil(total / LIVE_PER_PAGE);
      nodes.push(el('nav', { class: 'paging', 'aria-label': 'Result pages' }, [
        el('span', {}, ['Page 1 of ' + pages]),
        el('a', { href: '/search?q=' + encodeURIComponent(q) + '&page=2', rel: 'next' }, ['Next'])
      ]));
    }
    region.replaceChildren.apply(region, nodes);
  }
  function refused(message) {
    var count = region.querySelector('#search-count');
    if (count) count.textContent = message;
  }
  function ask(q) {
    var mine = ++asked;
    fetch('/api/v1/search/packages?per_page=' + LIVE_PER_PAGE + '&q=' + encodeURIComponent(q), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    }).then(function (res) {
      return res.json().then(function (body) {
        if (mine !== asked) return;
        var error = (body.errors && body.errors[0]) || {};
        if (!res.ok) return refused(typeof error.detail === 'string' ? error.detail : error.message || 'The search did not work.');
        draw(q, body);
        history.replaceState(null, '', '/search?q=' + encodeURIComponent(q));
      });
    }).catch(function () {
      if (mine === asked) refused('The search did not work; press Enter to search.');
    });
  }
  inputs.forEach(function (input) {
    input.setAttribute('aria-controls', region.id);
    input.addEventListener('input', function () {
      var q = input.value;
      inputs.forEach(function (other) { if (other !== input) other.value = q; });
      clearTimeout(timer);
      timer = setTimeout(function () { ask(q.trim()); }, 150);
    });
  });
}
document.addEventListener('DOMContentLoaded', function () {
  var region = document.querySelector('[data-live-results]');
  if (region && window.fetch && window.history) liveSearch(region);
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-copy'));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = 'Copied';
        setTimeout(function () { button.textContent = 'Copy'; }, 1500);
      });
    });
  });
  document.querySelectorAll('select[data-pull-tag]').forEach(function (select) {
    var target = document.getElementById(select.getAttribute('data-pull-tag'));
    var go = select.form && select.form.querySelector('button[type=submit]');
    if (go) go.hidden = true;
    select.addEventListener('change', function () {
      if (!target) return;
      target.textContent = target.textContent.replace(/:[^:@/]*$/, ':' + select.value);
    });
  });
});
`;

interface Asset {
  path: string;
  body: string;
  type: string;
}

function asset(name: string, ext: string, body: string, type: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `${STATIC_PREFIX}/${name}.${hash}.${ext}`, body, type };
}

export const STYLESHEET = asset('berth', 'css', CSS, 'text/css; charset=utf-8');
export const SCRIPT = asset('berth', 'js', JS, 'text/javascript; charset=utf-8');

export function staticRoutes(): Router {
  const router = express.Router();
  for (const a of [STYLESHEET, SCRIPT]) {
    router.get(a.path, (_req: Request, res: Response) => {
      res
        .status(200)
        .set({
          'Content-Type': a.type,
          'Cache-Control': 'public, max-age=31536000, immutable',
          'X-Content-Type-Options': 'nosniff',
        })
        .send(a.body);
    });
  }
  return router;
}
