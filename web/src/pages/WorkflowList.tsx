/** /app/workflows: every workflow with its trigger, status and active executions; create, duplicate, archive. */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { activeCount, fieldErrors, messageOf, useClient, type Workflow } from '../api';
import { Link, navigate } from '../router';
import { FieldMessage } from './FieldMessage';

interface Row {
  workflow: Workflow;
  active: number | null;
}

/** "EVENT signed_up", "MANUAL", "SCHEDULE 0 9 * * 1". */
export function triggerLabel(workflow: Pick<Workflow, 'triggerType' | 'triggerConfig'>): string {
  const config = workflow.triggerConfig as { eventName?: string; cron?: string };
  if (workflow.triggerType === 'EVENT') return `Event: ${config.eventName ?? ''}`;
  if (workflow.triggerType === 'SCHEDULE') return `Schedule: ${config.cron ?? ''}`;
  return 'Manual';
}

export function WorkflowList() {
  const client = useClient();
  const [archived, setArchived] = useState(false);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const page = await client.listWorkflows({ query: { archived: archived ? 'true' : 'false', pageSize: 100 } });
      setRows(page.data.map((workflow) => ({ workflow, active: null })));
      // The list has no counts: each row's comes from its stats, filled in as they arrive.
      const counts = await Promise.all(page.data.map((w) => client.getWorkflowStats({ params: { id: w.id } }).then(activeCount, () => null)));
      setRows(page.data.map((workflow, i) => ({ workflow, active: counts[i] ?? null })));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [client, archived]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (what: () => Promise<unknown>) => {
    try {
      await what();
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <main className="page">
      <h1>Workflows</h1>
      <CreateWorkflow />
      <div className="toolbar">
        <label className="inline">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Show archived workflows
        </label>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {rows === null ? (
        <p>Loading…</p>
      ) : rows.length === 0 ? (
        <p>{archived ? 'No archived workflows.' : 'No workflows yet: create one above.'}</p>
      ) : (
        <table className="list">
          <caption className="visually-hidden">{archived ? 'Archived workflows' : 'Workflows'}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Trigger</th>
              <th scope="col">Status</th>
              <th scope="col">Active</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ workflow, active }) => (
              <tr key={workflow.id}>
                <td>
                  <Link href={`/app/workflows/${workflow.id}`}>{workflow.name}</Link>
                </td>
                <td>{triggerLabel(workflow)}</td>
                <td>
                  <span className={`badge status-${workflow.status.toLowerCase()}`}>{workflow.status}</span>
                </td>
                <td data-testid="active-count">{active ?? '–'}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="quiet"
                    aria-label={`Duplicate ${workflow.name}`}
                    onClick={() => act(() => client.duplicateWorkflow({ params: { id: workflow.id } }))}
                  >
                    Duplicate
                  </button>
                  <button
                    type="button"
                    className="quiet"
                    aria-label={`${workflow.archived ? 'Unarchive' : 'Archive'} ${workflow.name}`}
                    onClick={() => act(() => client.updateWorkflow({ params: { id: workflow.id }, body: { archived: !workflow.archived } }))}
                  >
                    {workflow.archived ? 'Unarchive' : 'Archive'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function CreateWorkflow() {
  const client = useClient();
  const [name, setName] = useState('');
  const [eventName, setEventName] = useState('');
  const [errors, setErrors] = useState<{ path: string; message: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const workflow = await client.createWorkflow({ body: { name, eventName } });
      navigate(`/app/workflows/${workflow.id}`);
    } catch (err) {
      const fields = fieldErrors(err);
      setErrors(fields);
      setError(fields.length ? null : messageOf(err));
    }
  };
  return (
    <form className="create" onSubmit={submit} aria-labelledby="create-heading">
      <h2 id="create-heading">New workflow</h2>
      <div className="field">
        <label htmlFor="new-name">Name</label>
        <input id="new-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={errors.some((e) => e.path === 'name')} />
        <FieldMessage errors={errors} path="name" />
      </div>
      <div className="field">
        <label htmlFor="new-event">Trigger event</label>
        <input
          id="new-event"
          value={eventName}
          placeholder="signed_up"
          onChange={(e) => setEventName(e.target.value)}
          aria-invalid={errors.some((e) => e.path === 'eventName')}
        />
        <FieldMessage errors={errors} path="eventName" />
      </div>
      <button type="submit">Create workflow</button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
