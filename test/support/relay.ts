import type { Socket } from 'bun'

/**
 * A TCP relay in front of the PostgreSQL server `target` points at: `url` is `target` through
 * the relay, and `sent` holds each chunk a client wrote towards the server (latin1 text), so a
 * test sees what the driver sends and in how many writes. With `connectDelayMs`, each client
 * is connected to the server only that long after it arrives (a slow network or server).
 * With `cutOn` (a RegExp, or anything with its `test`), a chunk that matches it is not passed
 * on: the relay closes that client's connection both ways instead (the network fails just as
 * that statement goes out). With `cutAfter`, a chunk that matches it is passed on, and the
 * server's answer to it is not: the relay closes that client's connection both ways when the
 * answer comes (the network fails once the server has done the work, before the client hears).
 * After `freeze()` nothing passes either way and nothing closes: a server that stopped
 * answering (hung, or behind a network that drops every packet).
 */
export function startRelay(
  target: string,
  {
    connectDelayMs = 0,
    cutOn,
    cutAfter,
  }: { connectDelayMs?: number; cutOn?: { test(text: string): boolean }; cutAfter?: { test(text: string): boolean } } = {},
): { url: string; sent: string[]; freeze(): void; stop(): void } {
  const server = new URL(target)
  const sent: string[] = []
  let frozen = false
  const relay = Bun.listen<{ upstream?: Socket; early: Buffer[]; cutting?: boolean }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        client.data = { early: [] }
        if (connectDelayMs > 0) await Bun.sleep(connectDelayMs)
        const upstream = await Bun.connect({
          hostname: server.hostname,
          port: Number(server.port || 5432),
          socket: {
            data: (upstream, chunk) => {
              if (frozen) return
              if (!client.data.cutting) return void client.write(chunk)
              upstream.end()
              client.end()
            },
            close: () => void client.end(),
          },
        })
        for (const chunk of client.data.early) upstream.write(chunk)
        client.data.upstream = upstream
      },
      data(client, chunk) {
        if (frozen) return
        const text = Buffer.from(chunk).toString('latin1')
        sent.push(text)
        if (cutOn?.test(text)) {
          client.data.upstream?.end()
          client.end()
          return
        }
        if (cutAfter?.test(text)) client.data.cutting = true
        if (client.data.upstream) client.data.upstream.write(chunk)
        else client.data.early.push(Buffer.from(chunk))
      },
      close: (client) => void client.data.upstream?.end(),
    },
  })
  const url = new URL(target)
  url.host = `127.0.0.1:${relay.port}`
  return {
    url: url.toString(),
    sent,
    freeze: () => {
      frozen = true
    },
    stop: () => relay.stop(true),
  }
}

/**
 * For `cutAfter`: matches the chunk that carries the `n`th COMMIT (1 = the first) a client
 * of the relay sends, whether postgres.js sends it as text or as a Bind of the statement it
 * prepared for `commit` before.
 */
export function nthCommit(n: number): { test(text: string): boolean } {
  const names = new Set<string>()
  let seen = 0
  return {
    test(text) {
      for (const m of text.matchAll(/P[\s\S]{4}([^\0]*)\0commit\0/gi)) names.add(m[1]!)
      const isCommit = /\bcommit\0/i.test(text) || (text.startsWith('B') && [...names].some((name) => name && text.includes(`\0${name}\0`)))
      return isCommit && ++seen === n
    },
  }
}
