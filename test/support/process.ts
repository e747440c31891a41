/**
 * Reads `stream` (a child's stdout) until what it printed matches `pattern`; returns all of it.
 * The stream is left open, not cancelled, so the child can go on writing to it.
 */
export async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.getReader()
  let seen = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the process ended before printing ${pattern}: ${seen}`)
      seen += new TextDecoder().decode(value)
      if (pattern.test(seen)) return seen
    }
  } finally {
    reader.releaseLock()
  }
}

/** Everything `stream` still prints until it ends (after waitForLine, which leaves it readable). */
export async function readRest(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  let text = ''
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
  return text
}
