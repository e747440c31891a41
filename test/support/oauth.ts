import { createHash, randomBytes } from 'node:crypto'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { OWNER } from './app'

/** Where test clients say they listen; nothing does (the browser's last redirect is read, not followed). */
export const REDIRECT_URI = 'http://127.0.0.1:53682/callback'

/** An MCP client's side of OAuth, kept in memory; `authorizationUrl` is where it would open the browser. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  verifier = ''
  authorizationUrl: URL | undefined
  readonly redirectUrl = REDIRECT_URI
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'Test assistant',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  }
  state = () => 'state-123'
  clientInformation = () => this.info
  saveClientInformation = (info: OAuthClientInformationMixed) => void (this.info = info)
  tokens = () => this.saved
  saveTokens = (tokens: OAuthTokens) => void (this.saved = tokens)
  redirectToAuthorization = (url: URL) => void (this.authorizationUrl = url)
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier)
  codeVerifier = () => this.verifier
}

/** A PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export interface PageForm {
  method: string
  action: string
  /** Every input's name and value, in document order (hidden ones included). */
  fields: [string, string][]
  /** The submit buttons' name=value pairs. */
  buttons: [string, string][]
}

/** The page's one form, read with Bun's HTML parser (entities decoded), as a browser sees it. */
export async function readForm(html: string): Promise<PageForm> {
  const form: PageForm = { method: '', action: '', fields: [], buttons: [] }
  let forms = 0
  // A string in, a string out: the server under test may have replaced the global Response
  // (@hono/node-server's lightweight one), which HTMLRewriter would refuse.
  new HTMLRewriter()
    .on('form', {
      element(el) {
        forms++
        form.method = el.getAttribute('method') ?? 'get'
        form.action = el.getAttribute('action') ?? ''
      },
    })
    .on('input', {
      element(el) {
        form.fields.push([el.getAttribute('name') ?? '', el.getAttribute('value') ?? ''])
      },
    })
    .on('button', {
      element(el) {
        if (el.getAttribute('name')) form.buttons.push([el.getAttribute('name') ?? '', el.getAttribute('value') ?? ''])
      },
    })
    .transform(html)
  if (forms !== 1) throw new Error(`expected one form, found ${forms}`)
  return form
}

/** Submits `form` from `pageUrl` as a browser would: form-encoded, same-origin Origin, the cookie, no redirect following. */
export function submitForm(pageUrl: string, form: PageForm, extra: [string, string][], cookie?: string): Promise<Response> {
  const body = new URLSearchParams([...form.fields.filter(([name]) => !extra.some(([n]) => n === name)), ...extra])
  const target = new URL(form.action, pageUrl)
  return fetch(target, {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(pageUrl).origin, ...(cookie ? { cookie } : {}) },
    body,
    redirect: 'manual',
  })
}

/** The `name=value` of a Set-Cookie header, for the Cookie header of the next request. */
export const cookieFrom = (res: Response) => res.headers.get('set-cookie')?.split(';')[0]

/**
 * The browser's part of the flow: opens `authorizationUrl`, signs in as the owner on the page,
 * approves (or denies) on the consent page, and returns the final redirect's URL.
 */
export async function approveInBrowser(authorizationUrl: URL, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const first = await fetch(authorizationUrl, { redirect: 'manual' })
  if (first.status !== 200) throw new Error(`authorize page: ${first.status}`)
  const signIn = await readForm(await first.text())
  const signedIn = await submitForm(authorizationUrl.href, signIn, [
    ['username', OWNER.username],
    ['password', OWNER.password],
  ])
  if (signedIn.status !== 303) throw new Error(`sign-in: ${signedIn.status} ${await signedIn.text()}`)
  const cookie = cookieFrom(signedIn)
  const consentUrl = new URL(signedIn.headers.get('location') ?? '', authorizationUrl)
  const consent = await fetch(consentUrl, { headers: { cookie: cookie ?? '' }, redirect: 'manual' })
  const form = await readForm(await consent.text())
  const answered = await submitForm(consentUrl.href, form, [['decision', decision]], cookie)
  if (answered.status !== 302) throw new Error(`consent: ${answered.status} ${await answered.text()}`)
  return new URL(answered.headers.get('location') ?? '')
}
