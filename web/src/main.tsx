/** The web app (SPEC §15): sign-in, then the page of the current path. */
import '@xyflow/react/dist/style.css';
import './styles.css';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ClientContext, clientFor } from './api';
import { ContactPage } from './pages/ContactPage';
import { ExecutionPage } from './pages/ExecutionPage';
import { TemplateEditor } from './pages/TemplateEditor';
import { WorkflowEditor } from './pages/WorkflowEditor';
import { WorkflowList } from './pages/WorkflowList';
import { Link, type Route, routeOf, usePath } from './router';
import { forgetKey, readKey, saveKey } from './session';

const TITLES: Record<Route['page'], string> = {
  workflows: 'Workflows',
  workflow: 'Workflow',
  execution: 'Execution',
  template: 'Template',
  contact: 'Contact',
  'not-found': 'Not found',
};

/** Under `npm run dev` the server names a stream of rebuilds: the page reloads after each. */
function listenForRebuilds(): void {
  const stream = document.querySelector<HTMLMetaElement>('meta[name="trellis-live-reload"]')?.content;
  if (stream) new EventSource(stream).addEventListener('reload', () => window.location.reload());
}

function App() {
  const [key, setKey] = useState(readKey);
  const path = usePath();
  const client = useMemo(() => (key ? clientFor(key) : null), [key]);
  const route = routeOf(path);
  // /app is the workflow list: show its own address.
  useEffect(() => {
    if (client && route.page === 'workflows' && path !== '/app/workflows') window.history.replaceState(null, '', '/app/workflows');
  }, [client, route.page, path]);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Trellis`;
  }, [route.page]);
  if (!client) return <SignIn onKey={setKey} />;
  return (
    <ClientContext.Provider value={client}>
      <header className="top">
        <Link href="/app/workflows" className="brand">
          Trellis
        </Link>
        <nav aria-label="Main">
          <Link href="/app/workflows">Workflows</Link>
        </nav>
        <button
          type="button"
          className="quiet"
          onClick={() => {
            forgetKey();
            setKey(null);
          }}
        >
          Sign out
        </button>
      </header>
      {route.page === 'workflows' && <WorkflowList />}
      {route.page === 'workflow' && <WorkflowEditor key={route.workflowId} workflowId={route.workflowId} />}
      {route.page === 'execution' && <ExecutionPage key={route.executionId} workflowId={route.workflowId} executionId={route.executionId} />}
      {route.page === 'template' && <TemplateEditor key={route.templateId} templateId={route.templateId} />}
      {route.page === 'contact' && <ContactPage key={route.contactId} contactId={route.contactId} />}
      {route.page === 'not-found' && (
        <main className="page">
          <h1>Page not found</h1>
          <p>
            <Link href="/app/workflows">Go to the workflows</Link>
          </p>
        </main>
      )}
    </ClientContext.Provider>
  );
}

function SignIn({ onKey }: { onKey: (key: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    saveKey(value);
    onKey(value.trim());
  };
  return (
    <main className="page narrow">
      <h1>Sign in to Trellis</h1>
      <p>Paste a project's secret key, or open the link that `npm run dev` prints. The key stays in this tab only.</p>
      <form onSubmit={submit} className="stack">
        <label htmlFor="secret-key">Secret key</label>
        <input id="secret-key" type="password" autoComplete="off" placeholder="sk_…" value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

listenForRebuilds();
createRoot(document.getElementById('root')!).render(<App />);
