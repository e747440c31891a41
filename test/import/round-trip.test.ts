import { beforeEach, describe, expect, test } from 'bun:test'
import { repositoriesFor } from '../../src/repositories'
import { realisticRows, runImport, useImportFixture, writeLegacyFile } from '../support/legacy-sqlite'

const T = 1_700_000_000
const fx = useImportFixture()

beforeEach(async () => {
  writeLegacyFile(fx.file, realisticRows())
  expect((await runImport(fx.file, fx.target)).status).toBe('imported')
})

describe('after an import the application reads the legacy data through its repositories', () => {
  test('settings, categories and items', async () => {
    const repos = repositoriesFor(fx.target.db)
    expect(await repos.settings.all()).toEqual({ weightUnit: 'g', currency: 'EUR', onboardingComplete: 'true' })

    const categories = await repos.categories.list()
    const cook = categories.find((c) => c.id === 7)!
    expect(cook.name).toBe('  Cook "pots" \\ & \'pans\'  ')
    expect(cook.itemCount).toBe(1)
    expect(cook.totalWeightGrams).toBe(12345.678901234567 * 2)
    expect(cook.totalPriceCents).toBe(0)

    const tent = await repos.items.findById(1)
    expect(tent).toMatchObject({
      id: 1,
      name: 'Tent',
      weightGrams: 0.30000000000000004,
      priceCents: 45000,
      categoryId: 2,
      categoryName: 'Shelter',
      notes: 'tab\there\nnew line\r\nCRLF',
      quantity: 1,
      createdAt: new Date(T * 1000).toISOString(),
      updatedAt: new Date((T + 60) * 1000).toISOString(),
    })
    expect((await repos.items.findById(9))!.weightGrams).toBe(5e-324)
    expect((await repos.items.list({ q: '🔥' })).map((i) => i.id)).toEqual([2])

    // New rows continue after the imported ids.
    expect((await repos.categories.create({ name: 'Water' })).id).toBe(8)
    expect((await repos.items.create({ name: 'Filter', categoryId: 8 })).id).toBe(11)
  })

  test('threads, setups, users and OAuth clients', async () => {
    const repos = repositoriesFor(fx.target.db)
    const thread = (await repos.threads.findById(3))!
    expect(thread).toMatchObject({ status: 'resolved', resolvedCandidateId: 4, categoryId: 7 })
    expect(thread.candidates.map((c) => [c.id, c.status, c.cons])).toEqual([[4, 'arrived', 'heavy\tish']])
    const open = (await repos.threads.findById(4))!
    expect(open.candidates.map((c) => [c.id, c.sortOrder])).toEqual([
      [8, -0.0001220703125],
      [6, 1.5],
    ])

    const summer = (await repos.setups.findDetail(1))!
    expect(summer.items.map((i) => [i.id, i.classification])).toEqual(
      expect.arrayContaining([
        [1, 'base'],
        [2, 'worn'],
      ]),
    )
    expect(summer.totals.totalPriceCents).toBe(45000)

    expect(await repos.users.findCredentials('owner')).toMatchObject({ id: 1, passwordHash: '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA' })
    expect(await repos.oauth.findClient('claude')).toMatchObject({
      clientName: 'Claude',
      redirectUris: ['https://claude.ai/cb', 'http://localhost:8080/cb?x="y"'],
      createdAt: new Date(T * 1000),
    })
  })
})
