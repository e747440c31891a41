import { describe, expect, test } from 'bun:test'
import type { Kysely } from 'kysely'
import type { DB } from '../../src/db/types'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors'
import { KyselyOAuthRepository, type NewOAuthCode, type NewOAuthToken } from '../../src/repositories/oauth-repository'
import { KyselyUserRepository } from '../../src/repositories/user-repository'
import { onServerDatabase, serverUrl, useTestDatabase } from '../support/database'

const MINUTE = 60_000
const later = (ms: number) => new Date(Date.now() + ms)
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A user, a client, and helpers to make codes and tokens for them, on `db`. */
async function fixtures(db: Kysely<DB>) {
  const repo = new KyselyOAuthRepository(db)
  const user = await new KyselyUserRepository(db).create({ username: 'owner', passwordHash: 'h' })
  const client = await repo.createClient({ clientId: 'claude', clientName: 'Claude', redirectUris: ['https://claude.ai/callback', 'http://localhost:3000/cb'] })
  const code = (overrides: Partial<NewOAuthCode> = {}) =>
    repo.createCode({
      codeHash: 'code-hash',
      clientId: 'claude',
      userId: user.id,
      redirectUri: 'https://claude.ai/callback',
      codeChallenge: 'challenge',
      scope: 'gear',
      expiresAt: later(MINUTE),
      ...overrides,
    })
  const token = (overrides: Partial<NewOAuthToken> = {}) =>
    repo.createToken({
      accessTokenHash: 'access-hash',
      refreshTokenHash: 'refresh-hash',
      clientId: 'claude',
      userId: user.id,
      scope: 'gear',
      expiresAt: later(60 * MINUTE),
      refreshExpiresAt: later(24 * 60 * MINUTE),
      ...overrides,
    })
  return { repo, user, client, code, token }
}

/** Many redeems of one code at once: exactly one may get it. */
async function raceRedeems(db: Kysely<DB>) {
  const { repo, code } = await fixtures(db)
  await code()
  const results = await Promise.all(Array.from({ length: 8 }, () => repo.redeemCode('code-hash')))
  expect(results.filter((r) => r !== undefined)).toHaveLength(1)
  expect(results.find((r) => r)?.used).toBe(true)
}

describe('OAuthRepository', () => {
  const t = useTestDatabase()

  test('clients: create and find by client id, redirect URIs as a string array', async () => {
    const { repo, client } = await fixtures(t.db)
    expect(client).toEqual({
      id: 1,
      clientId: 'claude',
      clientName: 'Claude',
      redirectUris: ['https://claude.ai/callback', 'http://localhost:3000/cb'],
      createdAt: expect.any(Date),
    })
    expect(await repo.findClient('claude')).toEqual(client)
    expect(await repo.findClient('nobody')).toBeUndefined()
    // Stored as a JSON array, not as text or a PostgreSQL array.
    const row = await t.db.selectFrom('oauth_clients').select('redirect_uris').executeTakeFirstOrThrow()
    expect(row.redirect_uris).toEqual(['https://claude.ai/callback', 'http://localhost:3000/cb'])
  })

  test('a taken client id is a ConflictError', async () => {
    const { repo } = await fixtures(t.db)
    const error = await repo.createClient({ clientId: 'claude', clientName: null, redirectUris: [] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ constraint: 'oauth_clients_client_id_key' })
  })

  test('codes: create defaults to S256 and unused', async () => {
    const { code, user } = await fixtures(t.db)
    expect(await code()).toEqual({
      id: 1,
      codeHash: 'code-hash',
      clientId: 'claude',
      userId: user.id,
      redirectUri: 'https://claude.ai/callback',
      codeChallenge: 'challenge',
      codeChallengeMethod: 'S256',
      scope: 'gear',
      resource: null,
      familyId: expect.stringMatching(UUID),
      expiresAt: expect.any(Date),
      used: false,
      createdAt: expect.any(Date),
    })
  })

  test('codes: an unknown client or user is a NotFoundError, a plain challenge a ValidationError', async () => {
    const { code } = await fixtures(t.db)
    const noClient = await code({ clientId: 'ghost' }).catch((e: unknown) => e)
    expect(noClient).toBeInstanceOf(NotFoundError)
    expect((noClient as Error).message).toBe('oauth client ghost not found')
    const noUser = await code({ userId: 42 }).catch((e: unknown) => e)
    expect(noUser).toBeInstanceOf(NotFoundError)
    expect((noUser as Error).message).toBe('user 42 not found')
    expect(await code({ codeChallengeMethod: 'plain' }).catch((e: unknown) => e)).toBeInstanceOf(ValidationError)
  })

  test('redeemCode works once; unknown and expired codes never', async () => {
    const { repo, code } = await fixtures(t.db)
    await code()
    expect(await repo.redeemCode('code-hash')).toMatchObject({ codeHash: 'code-hash', used: true })
    expect(await repo.redeemCode('code-hash')).toBeUndefined()
    expect(await repo.redeemCode('unknown')).toBeUndefined()
    await code({ codeHash: 'expired', expiresAt: later(-1000) })
    expect(await repo.redeemCode('expired')).toBeUndefined()
    const expired = await t.db.selectFrom('oauth_codes').select('used').where('code_hash', '=', 'expired').executeTakeFirstOrThrow()
    expect(expired.used).toBe(false)
  })

  test('concurrent redeems of one code: exactly one succeeds', async () => {
    await raceRedeems(t.db)
  })

  test('tokens: create, find by access hash, revoke', async () => {
    const { repo, token, user } = await fixtures(t.db)
    const created = await token()
    expect(created).toEqual({
      id: 1,
      accessTokenHash: 'access-hash',
      refreshTokenHash: 'refresh-hash',
      clientId: 'claude',
      userId: user.id,
      scope: 'gear',
      familyId: expect.stringMatching(UUID),
      expiresAt: expect.any(Date),
      refreshExpiresAt: expect.any(Date),
      revoked: false,
      createdAt: expect.any(Date),
    })
    expect(await repo.findTokenByAccessHash('access-hash')).toEqual(created)
    expect(await repo.revokeToken('access-hash')).toBe(true)
    expect(await repo.findTokenByAccessHash('access-hash')).toBeUndefined()
    expect(await repo.revokeToken('unknown')).toBe(false)
  })

  test('tokens: expired ones are not found; duplicates and missing references are errors', async () => {
    const { repo, token } = await fixtures(t.db)
    await token({ accessTokenHash: 'old', refreshTokenHash: null, refreshExpiresAt: null, expiresAt: later(-1000) })
    expect(await repo.findTokenByAccessHash('old')).toBeUndefined()
    await token()
    expect(await token({ refreshTokenHash: 'other' }).catch((e: unknown) => e)).toMatchObject({ constraint: 'oauth_tokens_access_token_hash_key' })
    expect(await token({ accessTokenHash: 'x', refreshTokenHash: 'y', userId: 42 }).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError)
    expect(await token({ accessTokenHash: 'x', refreshTokenHash: 'y', clientId: 'ghost' }).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError)
  })
})

// PGlite runs one statement at a time; the race is only real with several server connections.
describe('OAuthRepository: families, rotation and clean-up', () => {
  const t = useTestDatabase()

  test('a code keeps its resource; its tokens join its family and revokeFamily revokes them all', async () => {
    const { repo, code, token } = await fixtures(t.db)
    const issued = await code({ resource: 'https://gear.example/mcp' })
    expect(issued.resource).toBe('https://gear.example/mcp')
    expect(await repo.findCode('code-hash')).toEqual(issued)
    const first = await token({ familyId: issued.familyId })
    const second = await token({ familyId: issued.familyId, accessTokenHash: 'a2', refreshTokenHash: 'r2' })
    const stranger = await token({ accessTokenHash: 'a3', refreshTokenHash: 'r3' })
    expect(stranger.familyId).not.toBe(issued.familyId)
    await repo.revokeFamily(issued.familyId)
    expect(await repo.findTokenByHash(first.accessTokenHash)).toMatchObject({ id: first.id, revoked: true })
    expect(await repo.findTokenByHash('r2')).toMatchObject({ id: second.id, revoked: true })
    expect(await repo.findTokenByHash('a3')).toMatchObject({ id: stranger.id, revoked: false })
    expect(await repo.findTokenByHash('unknown')).toBeUndefined()
  })

  test("claimRefreshToken works once, and never for another client's, a revoked or an expired token", async () => {
    const { repo, token } = await fixtures(t.db)
    await repo.createClient({ clientId: 'other', clientName: null, redirectUris: ['https://other.example/cb'] })
    await token()
    expect(await repo.claimRefreshToken('refresh-hash', 'other')).toBeUndefined()
    expect(await repo.claimRefreshToken('refresh-hash', 'claude')).toMatchObject({ refreshTokenHash: 'refresh-hash', revoked: true })
    expect(await repo.claimRefreshToken('refresh-hash', 'claude')).toBeUndefined()
    await token({ accessTokenHash: 'a2', refreshTokenHash: 'old', refreshExpiresAt: later(-1000) })
    expect(await repo.claimRefreshToken('old', 'claude')).toBeUndefined()
  })

  test('deleteExpired removes expired codes and dead tokens, and keeps the rest', async () => {
    const { repo, code, token } = await fixtures(t.db)
    await code({ codeHash: 'live' })
    await code({ codeHash: 'expired', expiresAt: later(-1000) })
    await token({ accessTokenHash: 'live-refresh', refreshTokenHash: 'r1', expiresAt: later(-1000) })
    await token({ accessTokenHash: 'dead-refresh', refreshTokenHash: 'r2', expiresAt: later(-1000), refreshExpiresAt: later(-1000) })
    await token({ accessTokenHash: 'live-access', refreshTokenHash: null, refreshExpiresAt: null })
    await token({ accessTokenHash: 'dead-access', refreshTokenHash: null, refreshExpiresAt: null, expiresAt: later(-1000) })
    await repo.deleteExpired()
    const codes = await t.db.selectFrom('oauth_codes').select('code_hash').orderBy('code_hash').execute()
    expect(codes.map((c) => c.code_hash)).toEqual(['live'])
    const tokens = await t.db.selectFrom('oauth_tokens').select('access_token_hash').orderBy('access_token_hash').execute()
    expect(tokens.map((r) => r.access_token_hash)).toEqual(['live-access', 'live-refresh'])
  })
})

describe.if(serverUrl !== undefined)('OAuthRepository on a PostgreSQL server', () => {
  test('concurrent redeems on separate connections: exactly one succeeds', () => onServerDatabase(raceRedeems))

  test('concurrent claims of one refresh token on separate connections: exactly one succeeds', () =>
    onServerDatabase(async (db) => {
      const { repo, token } = await fixtures(db)
      await token()
      const results = await Promise.all(Array.from({ length: 8 }, () => repo.claimRefreshToken('refresh-hash', 'claude')))
      expect(results.filter((r) => r !== undefined)).toHaveLength(1)
    }))
})
