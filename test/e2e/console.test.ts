// The web console in a real headless browser (Debian's chromium driven by playwright-core), on the
// default deployment (two workers): sign in, see a key boto3 created, disable it from the console
// and see boto3 get DisabledException, find that DisableKey in the audit trail with the console's
// user agent, edit a key policy through its diff, try GenerateMac and VerifyMac, read the health
// view, and be refused politely as a user whose policy denies. No request of the page breaks its
// Content-Security-Policy. With MACAW_CONSOLE_SCREENSHOTS=1 it also writes docs/console/*.png.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CreateKeyCommand, GenerateMacCommand } from '@aws-sdk/client-kms'
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts'
import { chromium, type Page } from 'playwright-core'
import { createUser, removeDataDir, spawnServer } from '../helpers/process.js'
import { NEEDS_BOTO3, pythonSession } from '../helpers/python.js'
import { repoPath } from '../helpers/repo.js'
import { ACCOUNT, kmsClient, REGION, ROOT } from '../helpers/server.js'

const CHROMIUM = '/usr/bin/chromium'
const skip = !existsSync(CHROMIUM) ? `SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium)` : NEEDS_BOTO3
const SHOTS = process.env['MACAW_CONSOLE_SCREENSHOTS'] === '1' ? repoPath('docs', 'console') : undefined

/** create: a key per description, tagged; mac: 'ok' or the error code of a GenerateMac. */
const BOTO3 = `
import boto3, botocore
def handle(mode, url, *args):
    kms = boto3.client('kms', endpoint_url=url, region_name='us-east-1', config=botocore.config.Config(retries={'max_attempts': 1}))
    if mode == 'create':
        return [kms.create_key(KeySpec='HMAC_256', KeyUsage='GENERATE_VERIFY_MAC', Description=d, Tags=[{'TagKey': 'team', 'TagValue': 'payments'}])['KeyMetadata']['KeyId'] for d in args]
    try:
        kms.generate_mac(KeyId=args[0], Message=b'x', MacAlgorithm='HMAC_SHA_256')
        return 'ok'
    except botocore.exceptions.ClientError as e:
        return e.response['Error']['Code']
`

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS === undefined) return
  await mkdir(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

async function signIn(page: Page, url: string, accessKeyId: string, secretAccessKey: string): Promise<void> {
  await page.goto(`${url}/console/`)
  await page.fill('#accessKeyId', accessKeyId)
  await page.fill('#secretAccessKey', secretAccessKey)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=who]')
}

describe('the web console in a headless browser', { concurrency: true }, () => {
  it('signs in, disables a boto3 key, audits it with its user agent, and refuses a denied user politely', { skip, timeout: 240_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-console-'))
    t.after(() => removeDataDir(dir))
    const server = await spawnServer(dir, { MACAW_WORKERS: '2' })
    const env = { ...process.env, AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' }
    // One python process for every boto3 call of the test.
    const py = pythonSession(BOTO3, env)
    t.after(() => py.close())
    const boto3 = (mode: string, ...args: string[]) => py.call(mode, server.url, ...args)
    const [keyId = '', otherKey = ''] = (await boto3('create', 'made by boto3', 'for trying MACs')) as string[]
    const denied = await createUser(dir, ACCOUNT, 'intern', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
        { Effect: 'Deny', Action: ['kms:*', 'cloudtrail:*'], Resource: '*' },
      ],
    })

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    t.after(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().includes('status of 400')) problems.push(msg.text())
    })
    page.on('pageerror', (err) => problems.push(err.message))
    // Nothing but this origin: a request elsewhere fails the test.
    const origin = new URL(server.url).origin
    page.on('request', (req) => {
      if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) problems.push(`request to another origin: ${req.url()}`)
    })

    // The page and its headers.
    const first = await page.goto(`${server.url}/console/`)
    const headers = first?.headers() ?? {}
    assert.match(headers['content-security-policy'] ?? '', /default-src 'none'/)
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/)
    assert.match(headers['content-security-policy'] ?? '', /script-src 'self'(;|$)/)
    assert.equal(headers['x-frame-options'], 'DENY')
    await shot(page, 'sign-in')

    // Sign in as root: the key boto3 made is listed with its state, spec and tag.
    await signIn(page, server.url, ROOT.accessKeyId, ROOT.secretAccessKey)
    assert.match((await page.textContent('[data-testid=who]')) ?? '', new RegExp(`arn:aws:iam::${ACCOUNT}:root`))
    const row = page.locator('[data-testid=keys] tr', { hasText: keyId })
    await row.waitFor()
    const text = (await row.textContent()) ?? ''
    assert.match(text, /Enabled/)
    assert.match(text, /HMAC_256/)
    assert.match(text, /team=payments/)
    assert.match(text, /made by boto3/)
    await page.fill('input[type=search]', 'for trying')
    assert.equal(await page.locator('[data-testid=keys] tbody tr').count(), 1, 'the filter keeps one key')
    await page.fill('input[type=search]', '')
    await shot(page, 'keys')

    // Disable it from its page, with confirmation; boto3 then gets DisabledException.
    await page.click(`a[href="#/keys/${keyId}"]`)
    await page.waitForSelector('[data-testid=key-meta]')
    await page.click('button:text-is("Disable")')
    await shot(page, 'disable-confirm')
    await page.click('[data-testid=confirm]')
    await page.locator('[data-testid=key-meta] .state', { hasText: 'Disabled' }).waitFor()
    assert.equal(await boto3('mac', keyId), 'DisabledException')

    // The key policy: an edit is reviewed as a diff, then put.
    const policy = page.locator('textarea[aria-label="Key policy"]')
    const original = await policy.inputValue()
    const edited = JSON.stringify({ ...(JSON.parse(original) as object), Id: 'console-edit' }, null, 2)
    await policy.fill('{ not json')
    await page.locator('.error', { hasText: 'Not valid JSON' }).waitFor()
    await policy.fill(edited)
    await page.click('button:text-is("Review changes")')
    const diff = (await page.textContent('[data-testid=policy-diff]')) ?? ''
    assert.match(diff, /\+ {3}"Id": "console-edit"/)
    await shot(page, 'key-policy-diff')
    await page.click('[data-testid=confirm]')
    await page.locator('.ok', { hasText: 'Policy saved.' }).waitFor()
    await shot(page, 'key')

    // Schedule its deletion (7 days, confirmed), see boto3 refused for the state, cancel it, enable it.
    const state = (name: string) => page.locator('[data-testid=key-meta] .state', { hasText: name }).waitFor()
    await page.click('button:text-is("Schedule deletion")')
    await page.fill('input[aria-label="Pending window in days"]', '7')
    await page.click('[data-testid=confirm]')
    await state('PendingDeletion')
    assert.equal(await boto3('mac', keyId), 'KMSInvalidStateException')
    await page.click('button:text-is("Cancel deletion")')
    await page.click('[data-testid=confirm]')
    await state('Disabled')
    await page.click('button:text-is("Enable")')
    await page.click('[data-testid=confirm]')
    await state('Enabled')
    assert.equal(await boto3('mac', keyId), 'ok')

    // Try it: GenerateMac, then VerifyMac of that MAC.
    await page.goto(`${server.url}/console/#/try`)
    await page.fill('input[aria-label=Key]', otherKey)
    await page.click('button:text-is("GenerateMac")')
    await page.locator('[data-testid=result]', { hasText: 'GenerateMac with' }).waitFor()
    await page.click('button:text-is("VerifyMac")')
    await page.locator('[data-testid=result]', { hasText: 'the MAC is valid' }).waitFor()
    await page.fill('textarea[aria-label=Message]', 'another message')
    await page.click('button:text-is("VerifyMac")')
    await page.locator('[data-testid=error]', { hasText: 'KMSInvalidMacException' }).waitFor()
    await shot(page, 'try')

    // The audit trail: the DisableKey, made by the console (its user agent), with its JSON.
    await page.goto(`${server.url}/console/#/audit`)
    await page.selectOption('select[aria-label="Lookup attribute"]', 'EventName')
    await page.fill('input[aria-label="Attribute value"]', 'DisableKey')
    // Looked up until the workers' records are stored (within their flush interval).
    const event = page.locator('[data-testid=event]', { hasText: 'DisableKey' })
    for (let i = 0; i < 50; i++) {
      await page.click('button:text-is("Look up")')
      await page.waitForTimeout(100)
      if ((await page.locator('.hint', { hasText: 'Loading' }).count()) === 0 && (await page.locator('[data-testid=event]').count()) === 1) break
    }
    assert.equal(await event.count(), 1)
    assert.match((await event.textContent()) ?? '', /macaw console \(browser\)/)
    assert.equal(await page.locator('[data-testid=event]').count(), 1, 'only DisableKey events are shown')
    await event.click()
    const json = JSON.parse((await page.textContent('[data-testid=event-json]')) ?? '{}') as { eventName: string; userAgent: string; resources: { ARN: string }[] }
    assert.equal(json.eventName, 'DisableKey')
    assert.match(json.userAgent, /macaw-console\/1/)
    assert.match(json.resources[0]?.ARN ?? '', new RegExp(keyId))
    await page.locator('[data-testid=chain]', { hasText: /Hash chain verified: \d+ records/ }).waitFor()
    await shot(page, 'audit')

    // Health: requests between two samples (the first two 1 s apart) show as a rate; bounded load, on a client of its own.
    await page.goto(`${server.url}/console/#/health`)
    const load = kmsClient(server.url)
    t.after(() => load.destroy())
    // The load runs until the page shows a rate (or 40 s, 4,000 requests); for screenshots, until 40 s.
    const until = Date.now() + 40_000
    let shown = false
    const busy = (async () => {
      for (let i = 0; i < 4000 && Date.now() < until && !(shown && SHOTS === undefined); i++) {
        await load.send(new GenerateMacCommand({ KeyId: otherKey, Message: Buffer.from('load'), MacAlgorithm: 'HMAC_SHA_256' }))
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    await page.locator('[data-testid="now-req/s"]', { hasText: /[1-9]/ }).waitFor({ timeout: 30_000 })
    shown = true
    await busy
    await page.waitForTimeout(SHOTS === undefined ? 0 : 6000)
    await shot(page, 'health')

    // A user whose policy denies: the pages say so, plainly.
    await page.click('button:text-is("Sign out")')
    await signIn(page, server.url, denied.AccessKeyId, denied.SecretAccessKey)
    await page.locator('[data-testid=denied]').waitFor()
    assert.match((await page.textContent('[data-testid=denied]')) ?? '', /Access denied\..*AccessDeniedException: User: arn:aws:iam::111122223333:user\/intern is not authorized to perform: kms:ListAliases/s)
    await shot(page, 'denied')
    await page.goto(`${server.url}/console/#/audit`)
    await page.locator('[data-testid=denied]', { hasText: 'cloudtrail:LookupEvents' }).waitFor()

    // Temporary credentials (GetSessionToken) sign in too; the keys page pages 25 at a time.
    await page.click('button:text-is("Sign out")')
    for (let i = 0; i < 24; i++) await load.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: `page filler ${i}` }))
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: ROOT, maxAttempts: 1 })
    t.after(() => sts.destroy())
    const temporary = (await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials
    assert.ok(temporary?.AccessKeyId !== undefined)
    assert.match(temporary.AccessKeyId, /^ASIA/)
    await page.goto(`${server.url}/console/`)
    await page.fill('#accessKeyId', temporary.AccessKeyId)
    await page.fill('#secretAccessKey', temporary.SecretAccessKey ?? '')
    await page.fill('#sessionToken', temporary.SessionToken ?? '')
    await page.click('button[type=submit]')
    await page.waitForSelector('[data-testid=who]')
    assert.match((await page.textContent('[data-testid=who]')) ?? '', new RegExp(`arn:aws:iam::${ACCOUNT}:root`))
    const rows = page.locator('[data-testid=keys] tbody tr')
    await page.locator('button:text-is("Load more")').waitFor()
    assert.equal(await rows.count(), 25)
    await page.click('button:text-is("Load more")')
    await page.locator('.hint', { hasText: '26 of 26 loaded' }).waitFor()
    assert.equal(await page.locator('button:text-is("Load more")').count(), 0)

    // Credentials were never written where they would outlive the tab.
    const stored = await page.evaluate(() => {
      const browser = globalThis as unknown as { localStorage: Record<string, string>; document: { cookie: string } }
      return JSON.stringify({ local: { ...browser.localStorage }, cookie: browser.document.cookie })
    })
    assert.ok(!stored.includes(ROOT.secretAccessKey) && !stored.includes(denied.SecretAccessKey) && !stored.includes(temporary.SecretAccessKey ?? '-'), stored)
    assert.deepEqual(problems, [])
  })

  it('is not served with --console off', { skip: existsSync(repoPath('dist', 'console', 'app.js')) ? false : 'SKIPPED: the console is not built' }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'macaw-console-off-'))
    t.after(() => removeDataDir(dir))
    const on = await spawnServer(dir, { MACAW_WORKERS: '1' })
    const page = await fetch(`${on.url}/console/`)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<script type="module" src="app.js"><\/script>/)
    assert.equal((await fetch(`${on.url}/console/../metrics`)).status, 200, 'fetch normalises the path: /metrics')
    const traversal = await fetch(`${on.url}/console/%2e%2e/package.json`)
    assert.notEqual(traversal.status, 200)
    assert.doesNotMatch(await traversal.text(), /"name": "macaw"/)
    assert.equal((await fetch(`${on.url}/console/app.js.map`)).status, 404)
    const redirect = await fetch(`${on.url}/console`, { redirect: 'manual' })
    assert.equal(redirect.status, 301)
    assert.equal(redirect.headers.get('location'), '/console/')
    await on.stop()
    const off = await spawnServer(dir, { MACAW_WORKERS: '1', MACAW_CONSOLE: 'off' })
    const refused = await fetch(`${off.url}/console/`)
    assert.notEqual(refused.status, 200)
    await refused.arrayBuffer()
  })
})
