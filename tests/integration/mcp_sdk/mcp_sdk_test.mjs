// Drives the mend MCP status server with the official MCP TypeScript SDK
// client over stdio: lists the tools, calls ax_get_self_healing_status as an
// administrator and checks the report, and checks that a caller without the
// role is refused.
//
//   node mcp_sdk_test.mjs <path to mcp_status_server>
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

const serverPath = process.argv[2];
if (!serverPath) {
  console.error('usage: node mcp_sdk_test.mjs <path to mcp_status_server>');
  process.exit(2);
}

const TOOL = 'ax_get_self_healing_status';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

const workDir = mkdtempSync(path.join(tmpdir(), 'mend-mcp-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

// Starts the server with `args` and connects an SDK client to it; the
// server's log goes to this process's stderr.
async function connect(args) {
  const transport = new StdioClientTransport({ command: serverPath, args, stderr: 'inherit' });
  const client = new Client({ name: 'mend-integration-test', version: '0.1.0' });
  await client.connect(transport);
  return client;
}

// Runs `body` with a client connected to a server started with `args`, and
// stops the server afterwards.
async function withServer(args, body) {
  const client = await connect(args);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

function checkReport(report) {
  assert.ok(Array.isArray(report.circuit_breakers), 'circuit_breakers is an array');
  assert.ok(report.circuit_breakers.length > 0, 'the simulated workload reports a breaker');
  for (const breaker of report.circuit_breakers) {
    assert.equal(typeof breaker.name, 'string');
    assert.ok(['CLOSED', 'OPEN', 'HALF_OPEN'].includes(breaker.state), `state ${breaker.state}`);
    assert.ok(Number.isInteger(breaker.auto_recoveries));
    assert.ok(breaker.last_recovery === null || ISO_UTC.test(breaker.last_recovery),
              `last_recovery ${breaker.last_recovery}`);
  }
  const breaker = report.circuit_breakers.find((b) => b.name === 'ax_connection');
  assert.ok(breaker, 'the ax_connection breaker is listed');
  assert.equal(breaker.state, 'CLOSED');
  assert.equal(breaker.auto_recoveries, 2);
  assert.match(breaker.last_recovery, ISO_UTC);

  assert.ok(Array.isArray(report.connection_pools), 'connection_pools is an array');
  assert.ok(report.connection_pools.length > 0, 'the simulated workload reports a pool');
  for (const pool of report.connection_pools) {
    assert.equal(typeof pool.name, 'string');
    assert.ok(['healthy', 'degraded', 'recovering'].includes(pool.status), `status ${pool.status}`);
    assert.ok(Number.isInteger(pool.active_connections));
    assert.ok(Number.isInteger(pool.recovery_attempts));
  }
  const pool = report.connection_pools.find((p) => p.name === 'aif_pool');
  assert.ok(pool, 'the aif_pool pool is listed');
  assert.equal(pool.status, 'healthy');
  assert.equal(pool.recoveries, 2);
  assert.ok(pool.recovery_attempts >= 2, `recovery_attempts ${pool.recovery_attempts}`);

  const stats = report.retry_stats;
  assert.ok(Number.isInteger(stats.total_retries));
  assert.ok(stats.total_retries > 0, 'the simulated workload retried');
  assert.equal(stats.total_retries, stats.successful_retries + stats.failed_retries);

  assert.ok(Array.isArray(report.history.entries));
  assert.ok(report.history.entries.length > 0, 'the history shows the transitions');
  for (const entry of report.history.entries) {
    assert.match(entry.at, ISO_UTC);
    assert.equal(typeof entry.kind, 'string');
  }
  assert.ok(Array.isArray(report.trends.buckets));
  assert.ok(report.trends.totals.failures > 0);
}

test('lists the status tool', async () => {
  await withServer(['--caller', 'ops', '--role', 'MCP_Admin'], async (client) => {
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === TOOL);
    assert.ok(tool, `${TOOL} is listed`);
    assert.equal(tool.inputSchema.type, 'object');
    assert.equal(tool.outputSchema.type, 'object');
    assert.equal(client.getServerVersion().name, 'mend-status-server');
  });
});

test('admin call returns the report', async () => {
  await withServer(['--caller', 'ops', '--role', 'MCP_Viewer', '--role', 'MCP_Admin'], async (client) => {
    const result = await client.callTool({ name: TOOL, arguments: {} });
    assert.ok(!result.isError, `the call succeeded: ${JSON.stringify(result.content)}`);
    checkReport(result.structuredContent);
    assert.equal(result.content[0].type, 'text');
    assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
  });
});

test('call without the role is refused', async () => {
  await withServer(['--caller', 'viewer', '--role', 'MCP_Viewer'], async (client) => {
    const result = await client.callTool({ name: TOOL, arguments: {} });
    assert.equal(result.isError, true);
    assert.equal(result.structuredContent, undefined);
    assert.equal(result.content[0].text,
                 "permission denied: caller 'viewer' does not have the role MCP_Admin");
    assert.ok(!JSON.stringify(result).includes('ax_connection'), 'nothing of the report leaks');
  });
});

test('roles come from a configuration file', async () => {
  const config = path.join(workDir, 'server.json');
  writeFileSync(config, JSON.stringify({ caller: 'ops', roles: ['StatusReader'], required_role: 'StatusReader' }));
  await withServer(['--config', config], async (client) => {
    const result = await client.callTool({ name: TOOL, arguments: {} });
    assert.ok(!result.isError, `the call succeeded: ${JSON.stringify(result.content)}`);
    checkReport(result.structuredContent);
  });
});

test('unknown tool is a protocol error', async () => {
  await withServer(['--role', 'MCP_Admin'], async (client) => {
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (error) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, ErrorCode.InvalidParams);
      return true;
    });
  });
});

test('history survives a server restart', async () => {
  const db = path.join(workDir, 'status.db');
  const args = ['--role', 'MCP_Admin', '--history-db', db];
  const first = await withServer(args, async (client) => (await client.callTool({ name: TOOL })).structuredContent);
  assert.equal(first.persistence.ok, true, `persistence: ${JSON.stringify(first.persistence)}`);
  assert.ok(first.history.entries.every((entry) => entry.restored === false));

  const second = await withServer(args, async (client) => (await client.callTool({ name: TOOL })).structuredContent);
  const restored = second.history.entries.filter((entry) => entry.restored);
  assert.equal(restored.length, first.history.entries.length);
  assert.deepEqual(restored.map((entry) => entry.reason), first.history.entries.map((entry) => entry.reason));
});
