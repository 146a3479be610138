import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { fileDatabaseUrl } from '../support/file-databases';

describe('while Postgres is unreachable', () => {
  let proxy: TcpProxy;
  let app: TestApp;

  beforeAll(async () => {
    const url = new URL(fileDatabaseUrl());
    proxy = await startTcpProxy(`${url.hostname}:${url.port || '5432'}`);
    url.host = proxy.address;
    app = await startTestApp({ env: { ROLE: 'api', DATABASE_URL: url.toString() } });
  });
  afterAll(async () => {
    proxy?.up();
    await app?.close();
    await proxy?.close();
  });

  it('answers 503 SERVICE_UNAVAILABLE (never 500), loses nothing, and recovers when it is back', async () => {
    const { api } = app;
    proxy.down();
    const refused = await api.post('/v1/track', { event: 'outage', email: 'pg-down@example.com' });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'the database is unreachable', requestId: expect.any(String) } });
    const list = await api.get('/contacts');
    expect(list.status).toBe(503);
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.postgres).toBe(false);

    proxy.up();
    const accepted = await api.post('/v1/track', { event: 'outage', email: 'pg-down@example.com' });
    expect(accepted.status).toBe(200);
    // Only the accepted event was stored.
    const events = await api.get(`/events?contactId=${accepted.body.data.contact}`);
    expect(events.body.total).toBe(1);
  });
});
