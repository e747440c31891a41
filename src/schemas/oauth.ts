import { z } from '@hono/zod-openapi'

/** RFC 7591 section 2 client metadata GearBox reads; unknown metadata is ignored, as that section asks. */
export const ClientRegistrationBody = z
  .object({
    redirect_uris: z
      .array(z.string().max(2048))
      .min(1)
      .max(10)
      .openapi({ description: 'https, or http on a loopback host', example: ['http://127.0.0.1:33418/callback'] }),
    client_name: z.string().min(1).max(200).optional().openapi({ example: 'Claude' }),
    token_endpoint_auth_method: z.literal('none').optional().openapi({ description: 'Public clients only' }),
    grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).optional(),
    response_types: z.array(z.literal('code')).optional(),
    scope: z.string().max(200).optional(),
  })
  .openapi('OAuthClientRegistration')

export const ClientInformationSchema = z
  .object({
    client_id: z.string(),
    client_id_issued_at: z.int().openapi({ description: 'Seconds since the epoch' }),
    client_name: z.string().optional(),
    redirect_uris: z.array(z.string()),
    grant_types: z.array(z.string()),
    response_types: z.array(z.string()),
    token_endpoint_auth_method: z.literal('none'),
    scope: z.string(),
  })
  .openapi('OAuthClientInformation')

export const OAuthErrorSchema = z
  .object({ error: z.string().openapi({ example: 'invalid_grant' }), error_description: z.string().optional() })
  .openapi('OAuthError')

export const TokenRequestBody = z
  .object({
    grant_type: z.enum(['authorization_code', 'refresh_token']),
    code: z.string().optional(),
    redirect_uri: z.string().optional(),
    code_verifier: z.string().optional().openapi({ description: 'RFC 7636 PKCE verifier' }),
    refresh_token: z.string().optional(),
    client_id: z.string(),
    resource: z.string().optional().openapi({ description: 'RFC 8707; must be <GEARBOX_URL>/mcp' }),
    scope: z.string().optional(),
  })
  .openapi('OAuthTokenRequest')

export const TokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.int().openapi({ description: 'Seconds' }),
    refresh_token: z.string(),
    scope: z.string(),
  })
  .openapi('OAuthTokenResponse')

export const RevocationBody = z
  .object({ token: z.string(), token_type_hint: z.enum(['access_token', 'refresh_token']).optional(), client_id: z.string().optional() })
  .openapi('OAuthRevocation')

export const AuthorizationServerMetadataSchema = z.record(z.string(), z.unknown()).openapi('OAuthAuthorizationServerMetadata', { description: 'RFC 8414' })
export const ProtectedResourceMetadataSchema = z.record(z.string(), z.unknown()).openapi('OAuthProtectedResourceMetadata', { description: 'RFC 9728' })

export const AuthorizeQuery = z.object({
  response_type: z.literal('code'),
  client_id: z.string(),
  redirect_uri: z.string(),
  code_challenge: z.string().openapi({ description: 'BASE64URL(SHA256(code_verifier))' }),
  code_challenge_method: z.literal('S256'),
  state: z.string().optional(),
  scope: z.string().optional(),
  resource: z.string().optional(),
})
