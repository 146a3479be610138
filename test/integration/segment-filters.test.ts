import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, waitFor, type Api, type TestApp } from '../support/harness';
import { filterTable, type TableContact } from '../support/filter-table';

// The shared filter table (test/support/filter-table.ts) against stored segment membership: some
// contacts exist before the segments (the background computation places them), the others are
// created or changed afterwards (each change re-evaluates that one contact).
describe('segment membership follows the shared filter table', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  const { contacts, cases } = filterTable(Date.now());
  const byKey = (key: string) => contacts.find((c) => c.key === key)!;

  async function create(api: Api, c: TableContact): Promise<string> {
    const r = await api.post('/contacts', { email: c.email, subscribed: c.subscribed, data: c.data, tags: c.tags });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id;
  }

  async function membersOf(api: Api, segmentId: string): Promise<string[]> {
    const r = await api.get(`/segments/${segmentId}/contacts?pageSize=100`);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(r.body.data.length);
    return r.body.data.map((c: { email: string }) => c.email);
  }

  it('places every contact of the table exactly as the CONDITION evaluator does', async () => {
    const { api } = app;
    const ids: Record<string, string> = {};
    // Before the segments: created through POST /contacts and /v1/track.
    ids.ada = await create(api, byKey('ada'));
    ids.bob = await create(api, byKey('bob'));
    const cy = byKey('cy');
    const tracked = await api.post('/v1/track', { event: 'imported', email: cy.email, data: cy.data, tags: cy.tags });
    expect(tracked.status).toBe(200);
    ids.cy = tracked.body.data.contact;
    // Eve exists with other data; her table data arrives later through PATCH.
    const eve = byKey('eve');
    ids.eve = (await api.post('/contacts', { email: eve.email, data: { plan: 'pro', age: 42 } })).body.id;

    const segmentIds: string[] = [];
    for (const [i, c] of cases.entries()) {
      const r = await api.post('/segments', { name: c.name, slug: `case-${i}`, filter: c.filter });
      expect(r.status, `${c.name}: ${JSON.stringify(r.body)}`).toBe(201);
      expect(r.body).toMatchObject({ computing: true, memberCount: 0 });
      segmentIds.push(r.body.id);
    }
    await waitFor(async () => {
      const list = await api.get('/segments?pageSize=100');
      return list.body.data.every((s: { computing: boolean }) => !s.computing);
    }, 'every segment computed');

    // After the segments: a new contact through /v1/track, a change through PATCH.
    const dee = byKey('dee');
    expect((await api.post('/v1/track', { event: 'visited', email: dee.email })).status).toBe(200);
    const patched = await api.patch(`/contacts/${ids.eve}`, { data: { plan: null, ...eve.data } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toEqual(eve.data);
    // Eve's tags arrive one by one: added, then replaced (gaining one), then one removed and re-added.
    expect((await api.post(`/contacts/${ids.eve}/tags`, { tags: ['BETA'] })).body.tags).toEqual(['beta']);
    expect((await api.patch(`/contacts/${ids.eve}`, { tags: ['beta', 'vip', 'old'] })).body.tags).toEqual(['beta', 'vip', 'old']);
    expect((await api.delete(`/contacts/${ids.eve}/tags/old`)).status).toBe(204);
    expect((await api.get(`/contacts/${ids.eve}`)).body.tags).toEqual(eve.tags);

    const outcome = await Promise.all(cases.map(async (c, i) => [c.name, await membersOf(api, segmentIds[i]!)] as const));
    const expected = cases.map((c) => [c.name, c.matches.map((key) => byKey(key).email).sort()] as const);
    expect(outcome.map(([name, emails]) => [name, [...emails].sort()])).toEqual(expected);
    const counts = await Promise.all(segmentIds.map(async (id) => (await api.get(`/segments/${id}`)).body.memberCount));
    expect(counts).toEqual(cases.map((c) => c.matches.length));
  });
});
