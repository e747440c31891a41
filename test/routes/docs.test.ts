import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type HttpServer, listen } from '../../src/http-server'
import { bodyOf, useTestApp } from '../support/app'

/**
 * Debian's Chromium (`apt-get install chromium`; .ci/run installs it). Outside CI a machine
 * without it does not run the browser test; under CI=true that is an error, never a skip.
 */
const chromium = Bun.which('chromium') ?? undefined
if (!chromium && process.env.CI === 'true') throw new Error('CI=true requires chromium on the PATH: the /docs browser test must run in CI')

describe('GET /docs', () => {
  const t = useTestApp()

  test('a page whose scripts and styles all come from this server', async () => {
    const res = await t.app.request('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/html')
    const page = await res.text()
    const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    expect(sources).toEqual(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js'])
    for (const source of sources) {
      const asset = await t.app.request(source!)
      expect({ source, status: asset.status }).toEqual({ source, status: 200 })
      expect(asset.headers.get('content-type')).toMatch(/^text\/(css|javascript)/)
      const length = (await asset.arrayBuffer()).byteLength
      expect(length).toBeGreaterThan(source === '/docs/init.js' ? 50 : 100_000)
      // The files are streamed with their length (init.js is a string: the server adds it).
      if (source !== '/docs/init.js') expect(asset.headers.get('content-length')).toBe(String(length))
    }
    expect(await (await t.app.request('/docs/package.json')).text()).toContain('not_found')
  })

  describe.if(!!chromium)('in headless Chromium, with every host but this one unreachable', () => {
    let server: HttpServer
    let profile: string
    beforeAll(async () => {
      // GearBox's own HTTP server, as in production.
      server = await listen(t.app.fetch, 0, '127.0.0.1')
      profile = await mkdtemp(path.join(tmpdir(), 'gearbox-chromium-'))
    })
    afterAll(async () => {
      await server?.stop(true)
      if (profile) await rm(profile, { recursive: true, force: true })
    })

    /** Runs Chromium on /docs with `extra` flags; returns what it printed. */
    async function chromiumOnDocs(extra: string[]): Promise<string> {
      const browser = Bun.spawn(
        [
          chromium!,
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
          `--user-data-dir=${profile}`,
          // A CDN the page might try would not resolve: the page must render from this server alone.
          '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
          // Lets the page's scripts fetch /openapi.json and render before the DOM is taken.
          '--virtual-time-budget=20000',
          '--window-size=1280,1600',
          ...extra,
          `http://127.0.0.1:${server.port}/docs`,
        ],
        { stdout: 'pipe', stderr: 'pipe', timeout: 90_000 },
      )
      const [out, err, code] = await Promise.all([new Response(browser.stdout).text(), new Response(browser.stderr).text(), browser.exited])
      if (code !== 0) throw new Error(`chromium exited with ${code}: ${err}`)
      return out
    }

    test('renders every operation of the document', async () => {
      const doc = await bodyOf(await t.app.request('/openapi.json'))
      const dom = await chromiumOnDocs(['--dump-dom'])
      // Text as the page shows it: tags dropped, entities decoded, word breaks Swagger UI inserts removed.
      const text = dom
        .replace(/<wbr>/g, '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/&(lt|gt|quot|#39|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[name]!)
        .replace(/\s+/g, ' ')
      expect(text).toContain('GearBox API')
      const missing: string[] = []
      let operations = 0
      for (const [route, item] of Object.entries<Record<string, { summary: string }>>(doc.paths)) {
        for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
          const operation = item[method]
          if (!operation) continue
          operations++
          if (!text.includes(`${method.toUpperCase()} ${route} ${operation.summary}`)) missing.push(`${method.toUpperCase()} ${route}`)
        }
      }
      expect(operations).toBeGreaterThanOrEqual(40)
      expect(missing).toEqual([])
    }, 120_000)

    test('a screenshot shows the page drawn, not blank', async () => {
      const file = path.join(profile, 'docs.png')
      await chromiumOnDocs([`--screenshot=${file}`])
      const png = new Uint8Array(await Bun.file(file).arrayBuffer())
      // PNG signature, then the IHDR chunk's width and height (big-endian, bytes 16-23).
      expect([...png.subarray(1, 4)]).toEqual([...Buffer.from('PNG')])
      const view = new DataView(png.buffer)
      expect([view.getUint32(16), view.getUint32(20)]).toEqual([1280, 1600])
      // A blank page compresses to a few kilobytes; the rendered reference is far larger.
      expect(png.byteLength).toBeGreaterThan(50_000)
    }, 120_000)
  })
})
