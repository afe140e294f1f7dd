import { html, raw, safeHttpUrl } from '../../src/web/html';
import { sourceLinks } from '../../src/web/source-links';
import { redactValues } from '../../src/web/pages/version-page';

describe('the html template', () => {
  it('escapes every interpolation, in text and in attributes', () => {
    const hostile = `<script>alert(1)</script> "><img src=x onerror=alert(2)> ' \``;
    const out = html`<p title="${hostile}">${hostile}</p>`.text;
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(2)&gt; &#39; &#96;">&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(2)&gt; &#39; &#96;</p>',
    );
  });

  it('passes fragments it built, and raw ones, unescaped; lists joined; null, undefined and false as nothing', () => {
    const inner = html`<b>${'a&b'}</b>`;
    expect(html`<i>${inner}${raw('<br>')}${['x', html`<u>y</u>`]}${null}${undefined}${false}${0}</i>`.text).toBe(
      '<i><b>a&amp;b</b><br>x<u>y</u>0</i>',
    );
  });
});

describe('links from labels', () => {
  it('keeps absolute http(s) URLs only', () => {
    expect(safeHttpUrl('https://example.com/a')).toBe('https://example.com/a');
    expect(safeHttpUrl('http://example.com')).toBe('http://example.com/');
    for (const bad of [
      'javascript:alert(1)',
      ' JAVASCRIPT:alert(1)',
      'data:text/html,<b>',
      '//evil.example/x',
      '/relative',
      'vbscript:x',
      '',
      undefined,
    ]) {
      expect(safeHttpUrl(bad)).toBeNull();
    }
  });

  it('links a revision to its commit on a known forge only, and only when it looks like a commit', () => {
    const rev = 'abcdef1234567';
    expect(sourceLinks('https://github.com/acme/web.git', rev).commit).toBe(`https://github.com/acme/web/commit/${rev}`);
    expect(sourceLinks('https://gitlab.com/group/sub/proj', rev).commit).toBe(`https://gitlab.com/group/sub/proj/-/commit/${rev}`);
    expect(sourceLinks('https://codeberg.org/a/b', rev).commit).toBe(`https://codeberg.org/a/b/commit/${rev}`);
    expect(sourceLinks('https://bitbucket.org/a/b', rev).commit).toBe(`https://bitbucket.org/a/b/commits/${rev}`);
    expect(sourceLinks('https://git.example.com/a/b', rev)).toEqual({ source: 'https://git.example.com/a/b', commit: null });
    expect(sourceLinks('https://github.com/acme/web', '"><script>').commit).toBeNull();
    expect(sourceLinks('javascript:alert(1)', rev)).toEqual({ source: null, commit: null });
  });
});

describe('history steps on the version page', () => {
  it('show the names of ENV and build arguments, never their values', () => {
    expect(redactValues('/bin/sh -c #(nop) ENV GREETING=hello API_TOKEN=not-for-the-page')).toBe(
      '/bin/sh -c #(nop) ENV GREETING=… API_TOKEN=…',
    );
    expect(redactValues('ENV A="x y" B=z')).toBe('ENV A=… B=…');
    expect(redactValues('ENV OLD secret value here')).toBe('ENV OLD …');
    expect(redactValues('RUN |2 TOKEN=abc VER="1 2" /bin/sh -c make')).toBe('RUN |2 TOKEN=… VER=… /bin/sh -c make');
    expect(redactValues('COPY app /app # a=b')).toBe('COPY app /app # a=b');
  });
});
