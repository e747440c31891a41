import { expect, spyOn, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { createMcpServer } from '../../src/routes/mcp-tools'
import type { Services } from '../../src/services'

test("an unexpected failure in a tool is logged by name and place, never with the statement's parameters (the arguments)", async () => {
  // As PGlite's and postgres.js's errors do: the statement's parameters ride on the error.
  const failure = Object.assign(new Error('could not extend file: No space left on device'), { code: 'XX999', params: ['PRIVATE-NAME', 'private notes'] })
  const services = {
    items: {
      create: async () => {
        throw failure
      },
    },
  } as unknown as Services
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  const server = createMcpServer(services)
  await server.connect(serverSide)
  const client = new Client({ name: 'test', version: '1' })
  await client.connect(clientSide)
  const errors = spyOn(console, 'error').mockImplementation(() => {})
  try {
    const result = (await client.callTool({
      name: 'create_item',
      arguments: { name: 'PRIVATE-NAME', categoryId: 1, notes: 'private notes' },
    })) as CallToolResult
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toEqual({ error: { code: 'internal', message: 'internal error' } })
    const logged = errors.mock.calls.map((args) => args.map(String).join(' ')).join('\n')
    expect(logged).toStartWith('MCP tool failed: Error: could not extend file: No space left on device (XX999)')
    expect(logged).not.toContain('PRIVATE-NAME')
    expect(logged).not.toContain('private notes')
  } finally {
    errors.mockRestore()
    await client.close()
    await server.close()
  }
})
