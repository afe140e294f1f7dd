/**
 * HTML built by a tagged template that escapes every interpolation: a
 * pusher's label, a search query or a package name can never become markup.
 * Only an `Html` value (what `html` and `raw` return) passes unescaped, and
 * `raw` is for fragments this folder wrote itself.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a page may interpolate: text (escaped), numbers, fragments, lists of them; null and false render nothing. */
export type HtmlValue = Html | string | number | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** An already-escaped fragment (an SVG this folder drew, say); never pass text that came from a request or a push. */
export function raw(fragment: string): Html {
  return new Html(fragment);
}

/** A link target a pusher wrote: only absolute http(s) URLs, else null (no `javascript:`, `data:` or relative tricks). */
export function safeHttpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}
