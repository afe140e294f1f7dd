import type request from 'supertest';

type Http = ReturnType<typeof request>;

/**
 * A person at the web pages, through supertest: signs in with the form (the
 * session cookie checked as the pages set it), then reads pages and posts
 * forms with that cookie and the CSRF token the pages carry.
 */
export class WebClient {
  /** `berth_session=…`, once signed in. */
  cookie = '';

  constructor(
    private readonly http: Http,
    readonly name: string,
    private readonly password: string,
  ) {}

  async signIn(): Promise<this> {
    const res = await this.http.post('/-/sign-in').type('form').send({ username: this.name, password: this.password, next: '/' });
    expect(res.status).toBe(303);
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('berth_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    this.cookie = (cookie ?? '').split(';')[0]!;
    return this;
  }

  get(path: string) {
    return this.http.get(path).set('Cookie', this.cookie);
  }

  /** The CSRF token of this person's pages. */
  async csrf(): Promise<string> {
    const res = await this.get('/');
    const csrf = res.text.match(/name="csrf" value="([^"]+)"/)?.[1];
    expect(csrf).toBeDefined();
    return csrf!;
  }

  /** A form POST as a browser sends it; a list value repeats its field (checkboxes). */
  post(path: string, fields: Record<string, string | string[]>) {
    return this.http
      .post(path)
      .set('Cookie', this.cookie)
      .type('form')
      .send(
        new URLSearchParams(
          Object.entries(fields).flatMap(([k, v]): Array<[string, string]> => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        ).toString(),
      );
  }
}
