// Throwaway PostgreSQL databases for tests. MACAW_TEST_POSTGRES_URL names an admin connection (a
// role with CREATEDB); every test gets a database of its own, dropped afterwards.
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import pg from 'pg'

/** Why PostgreSQL tests are skipped, or undefined when they can run. */
export const POSTGRES_SKIP_REASON: string | undefined = process.env['MACAW_TEST_POSTGRES_URL']
  ? undefined
  : 'MACAW_TEST_POSTGRES_URL is not set (e.g. postgres://macaw:macaw@127.0.0.1:5432/macaw); PostgreSQL tests skipped'

/**
 * Options for a test that needs PostgreSQL: skipped, and counted as skipped, without it. (A whole
 * describe() marked skip counts none of its tests in the summary.)
 */
export const NEEDS_POSTGRES: { readonly skip: string | false } = { skip: POSTGRES_SKIP_REASON ?? false }

export interface TestDatabase {
  readonly url: string
  readonly drop: () => Promise<void>
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Creates a fresh, uniquely named database; undefined when no PostgreSQL is configured. */
export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const adminUrl = process.env['MACAW_TEST_POSTGRES_URL']
  if (!adminUrl) return undefined
  // Identifiers cannot be bound as parameters; this name is made of [a-z0-9_] only.
  const name = `macaw_test_${process.pid}_${randomBytes(6).toString('hex')}`
  await withAdmin(adminUrl, async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}"`)
        return
      } catch (err) {
        // 55006: template1 is briefly in use by a concurrent CREATE DATABASE; try again.
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  let dropped = false
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return
      dropped = true
      await withAdmin(adminUrl, async (client) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
            return
          } catch (err) {
            // 42501: FORCE may not end a backend of another role (an autovacuum worker on the
            // fresh database); it finishes in a moment.
            if ((err as { code?: string }).code !== '42501' || attempt >= 50) throw err
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
      })
    },
  }
}

/** A fresh database for this test, dropped after it; undefined when no PostgreSQL is configured. */
export async function postgresUrlForTest(t: TestContext): Promise<string | undefined> {
  const db = await createTestDatabase()
  if (!db) return undefined
  t.after(() => db.drop())
  return db.url
}
