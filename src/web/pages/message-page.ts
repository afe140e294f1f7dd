import { html, type Html } from '../html';

/** A page that could not be shown. A not-found says nothing of what was asked for: a private package's name is not echoed. */
export function errorBody(status: number, message: string): Html {
  if (status === 404)
    return html`<h1>Not found</h1>
      <p>There is nothing here, or you may not see it. <a href="/-/sign-in">Sign in</a> to see private packages.</p>`;
  if (status === 401)
    return html`<h1>Sign in</h1>
      <p>This needs you to <a href="/-/sign-in">sign in</a>.</p>`;
  return html`<h1>${status === 403 ? 'Not allowed' : status >= 500 ? 'Something went wrong' : 'That did not work'}</h1>
    ${status < 500 ? html`<p class="error">${message}</p>` : html`<p>The error was logged. Try again in a moment.</p>`}`;
}

export function signInBody(csrf: string | null, problem: string | null, next: string): Html {
  return html`<h1>Sign in</h1>
    ${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
    <form method="post" action="/-/sign-in">
      <input type="hidden" name="csrf" value="${csrf ?? ''}" />
      <input type="hidden" name="next" value="${next}" />
      <label for="username">User name</label>
      <input type="text" id="username" name="username" autocomplete="username" required />
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required />
      <p><button type="submit">Sign in</button></p>
    </form>`;
}
