import type { Socket } from 'bun'

/**
 * A TCP relay in front of the PostgreSQL server `target` points at: `url` is `target` through
 * the relay, and `sent` holds each chunk a client wrote towards the server (latin1 text), so a
 * test sees what the driver sends and in how many writes. With `connectDelayMs`, each client
 * is connected to the server only that long after it arrives (a slow network or server).
 * With `cutOn` (a RegExp, or anything with its `test`), a chunk that matches it is not passed
 * on: the relay closes that client's connection both ways instead (the network fails just as
 * that statement goes out).
 */
export function startRelay(
  target: string,
  { connectDelayMs = 0, cutOn }: { connectDelayMs?: number; cutOn?: { test(text: string): boolean } } = {},
): { url: string; sent: string[]; stop(): void } {
  const server = new URL(target)
  const sent: string[] = []
  const relay = Bun.listen<{ upstream?: Socket; early: Buffer[] }>({
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
            data: (_, chunk) => void client.write(chunk),
            close: () => void client.end(),
          },
        })
        for (const chunk of client.data.early) upstream.write(chunk)
        client.data.upstream = upstream
      },
      data(client, chunk) {
        const text = Buffer.from(chunk).toString('latin1')
        sent.push(text)
        if (cutOn?.test(text)) {
          client.data.upstream?.end()
          client.end()
          return
        }
        if (client.data.upstream) client.data.upstream.write(chunk)
        else client.data.early.push(Buffer.from(chunk))
      },
      close: (client) => void client.data.upstream?.end(),
    },
  })
  const url = new URL(target)
  url.host = `127.0.0.1:${relay.port}`
  return { url: url.toString(), sent, stop: () => relay.stop(true) }
}
