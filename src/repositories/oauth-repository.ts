import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely'
import { onConstraint } from '../db/errors'
import type { DB, OauthClients, OauthCodes, OauthTokens } from '../db/types'
import { NotFoundError } from '../errors'

export interface OAuthClient {
  id: number
  clientId: string
  clientName: string | null
  redirectUris: string[]
  createdAt: Date
}

/** An authorization code (PKCE); `codeHash` is the SHA-256 of the code, never the code. */
export interface OAuthCode {
  id: number
  codeHash: string
  clientId: string
  userId: number
  redirectUri: string
  codeChallenge: string
  codeChallengeMethod: string
  scope: string | null
  /** The RFC 8707 resource the code was requested for, if any. */
  resource: string | null
  /** Shared by the code and every token issued from it, so a replay revokes them all. */
  familyId: string
  expiresAt: Date
  used: boolean
  createdAt: Date
}

export interface OAuthToken {
  id: number
  accessTokenHash: string
  refreshTokenHash: string | null
  clientId: string
  userId: number
  scope: string | null
  /** The family of the code this token descends from (through refresh rotation). */
  familyId: string
  expiresAt: Date
  refreshExpiresAt: Date | null
  revoked: boolean
  createdAt: Date
}

export type NewOAuthCode = Omit<OAuthCode, 'id' | 'used' | 'createdAt' | 'codeChallengeMethod' | 'resource' | 'familyId'> & {
  codeChallengeMethod?: string
  resource?: string | null
}
/** Without `familyId` the token starts a family of its own. */
export type NewOAuthToken = Omit<OAuthToken, 'id' | 'revoked' | 'createdAt' | 'familyId'> & { familyId?: string }

export interface OAuthRepository {
  /** Throws ConflictError (oauth_clients_client_id_key) when the client id is taken. */
  createClient(input: { clientId: string; clientName: string | null; redirectUris: string[] }): Promise<OAuthClient>
  findClient(clientId: string): Promise<OAuthClient | undefined>
  /**
   * Throws NotFoundError when the client or user does not exist, ValidationError for a
   * challenge method other than S256, ConflictError when the code hash exists.
   */
  createCode(input: NewOAuthCode): Promise<OAuthCode>
  /**
   * Marks an unused, unexpired code used and returns it; undefined when it is unknown, used or
   * expired. One statement, so of two concurrent redeems exactly one gets the code.
   */
  redeemCode(codeHash: string): Promise<OAuthCode | undefined>
  /** Throws NotFoundError when the client or user does not exist, ConflictError on a hash that exists. */
  createToken(input: NewOAuthToken): Promise<OAuthToken>
  /** The token with this access hash if it is neither revoked nor expired. */
  findTokenByAccessHash(accessTokenHash: string): Promise<OAuthToken | undefined>
  /** Revokes the token; returns false when no such token exists. */
  revokeToken(accessTokenHash: string): Promise<boolean>
  /** The code with this hash in any state (used, expired), for replay detection. */
  findCode(codeHash: string): Promise<OAuthCode | undefined>
  /** The token whose access or refresh hash this is, in any state (revoked, expired). */
  findTokenByHash(tokenHash: string): Promise<OAuthToken | undefined>
  /**
   * Revokes a live refresh token of `clientId` and returns it (revoked), so it can be replaced;
   * undefined when it is unknown, revoked, expired or another client's. One statement, so of
   * two concurrent rotations exactly one gets the token.
   */
  claimRefreshToken(refreshTokenHash: string, clientId: string): Promise<OAuthToken | undefined>
  /** Revokes every token of the family (a grant and all its rotations). */
  revokeFamily(familyId: string): Promise<void>
  /** Deletes expired codes and tokens whose refresh (or, without one, access) lifetime is over. */
  deleteExpired(): Promise<void>
  /**
   * Deletes registrations (RFC 7591) that nothing uses, no code and no token, once they are
   * older than `unusedForSeconds`, and beyond the newest `keep` of them the older ones.
   */
  pruneUnusedClients(unusedForSeconds: number, keep: number): Promise<void>
}

const toClient = (row: Selectable<OauthClients>): OAuthClient => ({
  id: row.id,
  clientId: row.client_id,
  clientName: row.client_name,
  redirectUris: row.redirect_uris as string[],
  createdAt: row.created_at,
})

const toCode = (row: Selectable<OauthCodes>): OAuthCode => ({
  id: row.id,
  codeHash: row.code_hash,
  clientId: row.client_id,
  userId: row.user_id,
  redirectUri: row.redirect_uri,
  codeChallenge: row.code_challenge,
  codeChallengeMethod: row.code_challenge_method,
  scope: row.scope,
  resource: row.resource,
  familyId: row.family_id,
  expiresAt: row.expires_at,
  used: row.used,
  createdAt: row.created_at,
})

const toToken = (row: Selectable<OauthTokens>): OAuthToken => ({
  id: row.id,
  accessTokenHash: row.access_token_hash,
  refreshTokenHash: row.refresh_token_hash,
  clientId: row.client_id,
  userId: row.user_id,
  scope: row.scope,
  familyId: row.family_id,
  expiresAt: row.expires_at,
  refreshExpiresAt: row.refresh_expires_at,
  revoked: row.revoked,
  createdAt: row.created_at,
})

/** A missing client or user behind `table`'s foreign keys is a NotFoundError naming which one. */
const missingReference = (table: 'oauth_codes' | 'oauth_tokens', input: { clientId: string; userId: number }) =>
  onConstraint({
    [`${table}_client_id_fkey`]: () => new NotFoundError('oauth client', input.clientId),
    [`${table}_user_id_fkey`]: () => new NotFoundError('user', input.userId),
  })

export class KyselyOAuthRepository implements OAuthRepository {
  constructor(readonly db: Kysely<DB>) {}

  async createClient(input: { clientId: string; clientName: string | null; redirectUris: string[] }): Promise<OAuthClient> {
    const row = await this.db
      .insertInto('oauth_clients')
      // Sent as text and cast by the server: drivers disagree on how to send an array as jsonb
      // (a PostgreSQL array, or a JSON string holding the JSON).
      .values({ client_id: input.clientId, client_name: input.clientName, redirect_uris: sql`${JSON.stringify(input.redirectUris)}::text::jsonb` })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toClient(row)
  }

  async findClient(clientId: string): Promise<OAuthClient | undefined> {
    const row = await this.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
    return row && toClient(row)
  }

  async createCode(input: NewOAuthCode): Promise<OAuthCode> {
    const row = await this.db
      .insertInto('oauth_codes')
      .values({
        code_hash: input.codeHash,
        client_id: input.clientId,
        user_id: input.userId,
        redirect_uri: input.redirectUri,
        code_challenge: input.codeChallenge,
        code_challenge_method: input.codeChallengeMethod,
        scope: input.scope,
        resource: input.resource ?? null,
        expires_at: input.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(missingReference('oauth_codes', input))
    return toCode(row)
  }

  async redeemCode(codeHash: string): Promise<OAuthCode | undefined> {
    const row = await this.db
      .updateTable('oauth_codes')
      .set({ used: true })
      .where('code_hash', '=', codeHash)
      .where('used', '=', false)
      .where('expires_at', '>', sql<Date>`now()`)
      .returningAll()
      .executeTakeFirst()
    return row && toCode(row)
  }

  async createToken(input: NewOAuthToken): Promise<OAuthToken> {
    const row = await this.db
      .insertInto('oauth_tokens')
      .values({
        access_token_hash: input.accessTokenHash,
        refresh_token_hash: input.refreshTokenHash,
        client_id: input.clientId,
        user_id: input.userId,
        scope: input.scope,
        expires_at: input.expiresAt,
        refresh_expires_at: input.refreshExpiresAt,
        ...(input.familyId ? { family_id: input.familyId } : {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(missingReference('oauth_tokens', input))
    return toToken(row)
  }

  async findTokenByAccessHash(accessTokenHash: string): Promise<OAuthToken | undefined> {
    const row = await this.db
      .selectFrom('oauth_tokens')
      .selectAll()
      .where('access_token_hash', '=', accessTokenHash)
      .where('revoked', '=', false)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst()
    return row && toToken(row)
  }

  async revokeToken(accessTokenHash: string): Promise<boolean> {
    const result = await this.db.updateTable('oauth_tokens').set({ revoked: true }).where('access_token_hash', '=', accessTokenHash).executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async findCode(codeHash: string): Promise<OAuthCode | undefined> {
    const row = await this.db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst()
    return row && toCode(row)
  }

  async findTokenByHash(tokenHash: string): Promise<OAuthToken | undefined> {
    const row = await this.db
      .selectFrom('oauth_tokens')
      .selectAll()
      .where((eb) => eb.or([eb('access_token_hash', '=', tokenHash), eb('refresh_token_hash', '=', tokenHash)]))
      .executeTakeFirst()
    return row && toToken(row)
  }

  async claimRefreshToken(refreshTokenHash: string, clientId: string): Promise<OAuthToken | undefined> {
    const row = await this.db
      .updateTable('oauth_tokens')
      .set({ revoked: true })
      .where('refresh_token_hash', '=', refreshTokenHash)
      .where('client_id', '=', clientId)
      .where('revoked', '=', false)
      .where('refresh_expires_at', '>', sql<Date>`now()`)
      .returningAll()
      .executeTakeFirst()
    return row && toToken(row)
  }

  async revokeFamily(familyId: string): Promise<void> {
    // An UPDATE sees only the tokens committed when it starts (READ COMMITTED). Locking the family
    // first waits for a rotation in flight, and the UPDATE, a statement later, sees what it issued.
    await this.db.selectFrom('oauth_tokens').select('id').where('family_id', '=', familyId).forUpdate().execute()
    await this.db.updateTable('oauth_tokens').set({ revoked: true }).where('family_id', '=', familyId).where('revoked', '=', false).execute()
  }

  async pruneUnusedClients(unusedForSeconds: number, keep: number): Promise<void> {
    const unused = (eb: ExpressionBuilder<DB, 'oauth_clients'>) =>
      eb.and([
        eb.not(eb.exists(eb.selectFrom('oauth_codes').select('id').whereRef('oauth_codes.client_id', '=', 'oauth_clients.client_id'))),
        eb.not(eb.exists(eb.selectFrom('oauth_tokens').select('id').whereRef('oauth_tokens.client_id', '=', 'oauth_clients.client_id'))),
      ])
    await this.db.deleteFrom('oauth_clients').where(unused).where('created_at', '<', sql<Date>`now() - make_interval(secs => ${unusedForSeconds})`).execute()
    await this.db
      .deleteFrom('oauth_clients')
      .where('id', 'in', (eb) => eb.selectFrom('oauth_clients').select('id').where(unused).orderBy('created_at', 'desc').orderBy('id', 'desc').offset(keep))
      .execute()
  }

  async deleteExpired(): Promise<void> {
    await this.db.deleteFrom('oauth_codes').where('expires_at', '<=', sql<Date>`now()`).execute()
    await this.db.deleteFrom('oauth_tokens').where(sql<Date>`coalesce(refresh_expires_at, expires_at)`, '<=', sql<Date>`now()`).execute()
  }
}
