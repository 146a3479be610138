/** /app/contacts/:id — one contact (SPEC §15): its data, tags, latest events and its runs across workflows. */
import { useCallback, useState } from 'react';
import { type Contact, type Execution, messageOf, useClient, usePolling } from '../api';
import type { ResponseOf } from '../../../api/endpoint';
import type { Endpoints } from '../../../api/contracts';
import { Link } from '../router';
import { Pending } from './Pending';

type Event = ResponseOf<Endpoints['listEvents']>['data'][number];

const POLL_MS = 5000;
const SHOWN = 50;

export function ContactPage({ contactId }: { contactId: string }) {
  const client = useClient();
  const [contact, setContact] = useState<Contact | null>(null);
  const [events, setEvents] = useState<{ data: Event[]; total: number }>({ data: [], total: 0 });
  const [runs, setRuns] = useState<{ data: Execution[]; total: number }>({ data: [], total: 0 });
  const [workflowNames, setWorkflowNames] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [c, e, r, w] = await Promise.all([
        client.getContact({ params: { id: contactId } }),
        client.listEvents({ query: { contactId, pageSize: SHOWN } }),
        client.listContactExecutions({ params: { id: contactId }, query: { pageSize: SHOWN } }),
        client.listWorkflows({ query: { pageSize: 100 } }),
      ]);
      setContact(c);
      setEvents(e);
      setRuns(r);
      setWorkflowNames(new Map(w.data.map((x) => [x.id, x.name])));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [client, contactId]);
  usePolling(load, POLL_MS);

  if (!contact) {
    return <Pending title="Contact" error={error} />;
  }

  return (
    <main className="page">
      <p className="crumbs">
        <Link href="/app/workflows">Workflows</Link> /
      </p>
      <h1>{contact.email}</h1>
      <p>
        <span className={`badge ${contact.subscribed ? 'run-completed' : 'run-cancelled'}`} data-testid="contact-subscribed">
          {contact.subscribed ? 'Subscribed' : 'Unsubscribed'}
        </span>{' '}
        <span className="muted">since {new Date(contact.createdAt).toLocaleString()}</span>
      </p>

      <h2>Data</h2>
      {Object.keys(contact.data).length === 0 ? (
        <p className="help">No custom fields.</p>
      ) : (
        <table className="list" data-testid="contact-data">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(contact.data).map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>
                  <code>{JSON.stringify(v)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Tags</h2>
      {contact.tags.length === 0 ? (
        <p className="help">No tags.</p>
      ) : (
        <ul className="tags" data-testid="contact-tags">
          {contact.tags.map((t) => (
            <li key={t} className="badge">
              {t}
            </li>
          ))}
        </ul>
      )}

      <h2>Runs</h2>
      {runs.data.length === 0 ? (
        <p className="help">Not in any workflow yet.</p>
      ) : (
        <table className="list" data-testid="contact-runs">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.id}>
                <td>{workflowNames.get(r.workflowId) ?? r.workflowId}</td>
                <td>{r.status}</td>
                <td>{new Date(r.startedAt).toLocaleString()}</td>
                <td>
                  <Link href={`/app/workflows/${r.workflowId}/executions/${r.id}`}>
                    View run<span className="visually-hidden"> of {workflowNames.get(r.workflowId) ?? 'the workflow'}</span>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.total > runs.data.length && (
        <p className="help">
          The latest {runs.data.length} of {runs.total} runs.
        </p>
      )}

      <h2>Events</h2>
      {events.data.length === 0 ? (
        <p className="help">No events.</p>
      ) : (
        <table className="list" data-testid="contact-events">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">When</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((e) => (
              <tr key={e.id}>
                <td>{e.name}</td>
                <td>{new Date(e.createdAt).toLocaleString()}</td>
                <td>
                  <code>{JSON.stringify(e.data)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {events.total > events.data.length && (
        <p className="help">
          The latest {events.data.length} of {events.total} events.
        </p>
      )}
    </main>
  );
}
