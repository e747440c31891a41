import net from 'node:net'

/** Sends `request` as raw bytes and reads until the server closes: status line, headers and body. */
export function exchange(port: number, request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request))
    const chunks: Uint8Array[] = []
    socket.on('data', (chunk: Uint8Array) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const [head = '', ...rest] = text.split('\r\n\r\n')
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: rest.join('\r\n\r\n') })
    })
    setTimeout(() => socket.destroy(new Error(`no answer to ${JSON.stringify(request.slice(0, 60))}`)), 10_000)
  })
}
