/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick). Tests that
 * start a server take one each: a port derived from the pid can be taken by another test run
 * on the machine, or be in use as the local end of an outgoing connection.
 */
export function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return port
}
