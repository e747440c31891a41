import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import type { OAuthClient } from '../repositories/oauth-repository'

/** The authorization request as the form carries it: the GET parameters, resource possibly repeated. */
export interface AuthorizeFields {
  params: Record<string, string | undefined>
  resources: string[]
}

const FIELDS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'scope'] as const

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

const layout = (title: string, body: Html) => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>${title} · GearBox</title>
  </head>
  <body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">
    <h1>${title}</h1>
    ${body}
  </body>
</html>`

const hidden = ({ params, resources }: AuthorizeFields) =>
  html`${FIELDS.map((name) =>
    params[name] === undefined ? '' : html`<input type="hidden" name="${name}" value="${params[name]}" />`,
  )}${resources.map((r) => html`<input type="hidden" name="resource" value="${r}" />`)}`

/** Shown instead of a redirect when the client or its redirect URI cannot be trusted (RFC 6749 section 4.1.2.1). */
export const errorPage = (message: string) => layout('Cannot sign in', html`<p>${message}</p>`)

/** Asks the owner for username and password; posts back to the authorize endpoint with the request. */
export const signInPage = (fields: AuthorizeFields, client: OAuthClient, problem?: string) =>
  layout(
    'Sign in to GearBox',
    html`<p><strong>${client.clientName ?? 'An application'}</strong> wants to use your GearBox inventory. Sign in first.</p>
      ${problem ? html`<p role="alert">${problem}</p>` : ''}
      <form method="post" action="/oauth/authorize">
        ${hidden(fields)}
        <p><label>Username <input name="username" autocomplete="username" required /></label></p>
        <p><label>Password <input name="password" type="password" autocomplete="current-password" required /></label></p>
        <p><button type="submit">Sign in</button></p>
      </form>`,
  )

/** Names the client and where the code goes; two buttons `decision=approve|deny`. */
export const consentPage = (fields: AuthorizeFields, client: OAuthClient) =>
  layout(
    'Allow access?',
    html`<p><strong>${client.clientName ?? 'An unnamed application'}</strong> wants to read and change your GearBox inventory.</p>
      <p>After you answer, your browser goes back to <strong>${new URL(fields.params.redirect_uri as string).host}</strong>.</p>
      <form method="post" action="/oauth/authorize">
        ${hidden(fields)}
        <button type="submit" name="decision" value="approve">Allow</button>
        <button type="submit" name="decision" value="deny">Deny</button>
      </form>`,
  )
