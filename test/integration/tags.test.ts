import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { executionIn, onlyFinished } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';

describe('contact tags and their events', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The names of the tag events recorded on a contact, oldest first. */
  async function tagEvents(contactId: string): Promise<string[]> {
    const r = await app.api.get(`/events?contactId=${contactId}&pageSize=100`);
    expect(r.status).toBe(200);
    return r.body.data
      .filter((e: any) => e.name.startsWith('tag.'))
      .map((e: any) => {
        expect(e.data).toEqual({ tag: e.name.split('.')[1] });
        return e.name;
      })
      .reverse();
  }

  it('records one event per real change, lower-cases tags and lists contacts by tag', async () => {
    const { api } = app;
    const created = await api.post('/contacts', { email: 'tagged@example.com', tags: ['VIP', 'vip', ' beta '] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.tags).toEqual(['vip', 'beta']);
    const id = created.body.id;
    expect(await tagEvents(id)).toEqual(['tag.vip.added', 'tag.beta.added']);

    const added = await api.post(`/contacts/${id}/tags`, { tags: ['vip', 'new'] });
    expect(added.status).toBe(200);
    expect(added.body.tags).toEqual(['vip', 'beta', 'new']);
    expect(await tagEvents(id)).toEqual(['tag.vip.added', 'tag.beta.added', 'tag.new.added']);

    expect((await api.delete(`/contacts/${id}/tags/absent`)).status).toBe(204);
    expect((await api.delete(`/contacts/${id}/tags/NEW`)).status).toBe(204);
    expect(await tagEvents(id)).toEqual(['tag.vip.added', 'tag.beta.added', 'tag.new.added', 'tag.new.removed']);

    const replaced = await api.patch(`/contacts/${id}`, { tags: ['beta', 'gold'] });
    expect(replaced.body.tags).toEqual(['beta', 'gold']);
    const unchanged = await api.patch(`/contacts/${id}`, { tags: ['gold', 'beta'] });
    expect(unchanged.status).toBe(200);
    expect((await tagEvents(id)).slice(4)).toEqual(['tag.gold.added', 'tag.vip.removed']);

    await api.post('/contacts', { email: 'gold2@example.com', tags: ['gold'] });
    const listed = await api.get('/contacts?tag=GOLD');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((c: any) => c.email).sort()).toEqual(['gold2@example.com', 'tagged@example.com']);

    const tracked = await api.post('/v1/track', { event: 'visited', email: 'tagged@example.com', tags: ['gold', 'Fan'] });
    expect(tracked.status).toBe(200);
    expect((await api.get(`/contacts/${id}`)).body.tags).toEqual(['beta', 'gold', 'fan']);
    expect((await tagEvents(id)).slice(6)).toEqual(['tag.fan.added']);
  });

  it('refuses bad tags, more than 100, and tag.* events on /v1/track', async () => {
    const { api } = app;
    const bad = await api.post('/contacts', { email: 'bad-tags@example.com', tags: ['ok', 'not a slug', '-dash'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.path)).toEqual(['tags.1', 'tags.2']);

    const many = Array.from({ length: 101 }, (_, i) => `t${i}`);
    const tooMany = await api.post('/contacts', { email: 'many@example.com', tags: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details).toEqual([{ path: 'tags', message: 'a contact has at most 100 tags' }]);

    const full = await api.post('/contacts', { email: 'full@example.com', tags: many.slice(0, 100) });
    expect(full.status).toBe(201);
    const overflow = await api.post(`/contacts/${full.body.id}/tags`, { tags: ['one-more'] });
    expect(overflow.status).toBe(400);
    expect(overflow.body.error.details).toEqual([{ path: 'tags', message: 'a contact has at most 100 tags' }]);
    const overflowTrack = await api.post('/v1/track', { event: 'x', email: 'full@example.com', tags: ['one-more'] });
    expect(overflowTrack.status).toBe(400);

    const badPath = await api.delete(`/contacts/${full.body.id}/tags/${encodeURIComponent('no way')}`);
    expect(badPath.status).toBe(400);
    expect(badPath.body.error.details[0].path).toBe('tag');

    const reserved = await api.post('/v1/track', { event: 'tag.vip.added', email: 'full@example.com' });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.details).toEqual([{ path: 'event', message: 'reserved name' }]);
  });

  it('a tag added by UPDATE_CONTACT starts the workflow triggered by tag.<tag>.added, whose CONDITION sees it', async () => {
    const { api } = app;
    const tagger = await buildWorkflow(api, {
      name: 'tagger',
      eventName: 'joined',
      steps: [{ key: 'tag', type: 'UPDATE_CONTACT', config: { addTags: ['Welcomed'], removeTags: ['prospect'] } }],
      edges: [['trigger', 'tag']],
    });
    const follower = await buildWorkflow(api, {
      name: 'on welcomed',
      eventName: 'tag.welcomed.added',
      steps: [
        { key: 'check', type: 'CONDITION', config: { field: 'contact.tags', operator: 'contains', value: 'welcomed' } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { greetedFor: '{{tag}}' } } },
      ],
      edges: [
        ['trigger', 'check'],
        ['check', 'mark', 'yes'],
      ],
    });
    const contact = await api.post('/contacts', { email: 'joiner@example.com', tags: ['prospect'] });

    expect((await api.post('/v1/track', { event: 'joined', email: 'joiner@example.com' })).status).toBe(200);
    const first = await onlyFinished(api, tagger.id, contact.body.id);
    expect(first.status).toBe('COMPLETED');
    expect(first.steps[1].output).toEqual({ data: null, subscribed: true, tags: ['welcomed'] });

    const second = await onlyFinished(api, follower.id, contact.body.id);
    expect(second.status).toBe('COMPLETED');
    expect(second.context).toEqual({ tag: 'welcomed' });
    expect(second.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['CONDITION', 'COMPLETED'],
      ['UPDATE_CONTACT', 'COMPLETED'],
    ]);
    expect((await api.get(`/contacts/${contact.body.id}`)).body).toMatchObject({ tags: ['welcomed'], data: { greetedFor: 'welcomed' } });
    expect(await tagEvents(contact.body.id)).toEqual(['tag.prospect.added', 'tag.welcomed.added', 'tag.prospect.removed']);
  });

  it('a tag removed through the API resumes a WAIT_FOR_EVENT on tag.<tag>.removed', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      name: 'wait for untag',
      eventName: 'trial_started',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'tag.trial.removed', timeout: 3600 } },
        { key: 'done', type: 'UPDATE_CONTACT', config: { data: { trialOver: true } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'done', 'event'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: 'trial_started', email: 'trial@example.com', tags: ['trial'] });
    const contactId = tracked.body.data.contact;
    const list = await api.get(`/workflows/${wf.id}/executions?contactId=${contactId}`);
    await executionIn(api, wf.id, list.body.data[0].id, ['WAITING']);
    expect((await api.delete(`/contacts/${contactId}/tags/trial`)).status).toBe(204);
    const done = await onlyFinished(api, wf.id, contactId);
    expect(done.status).toBe('COMPLETED');
    expect(done.steps[1].output).toMatchObject({ outcome: 'event' });
  });
});
