/**
 * /app/workflows/:id/executions/:executionId — one run: its status, and the path it took on the
 * graph it runs on (the version it enrolled under, which later edits of the workflow do not change).
 */
import { Background, Controls, ReactFlow, ReactFlowProvider, useNodesState } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type ExecutionGraph, type ExecutionWithSteps, messageOf, useClient, usePolling, type WorkflowWithGraph } from '../api';
import { edgesOf, keepMeasured, type Names, nodesOf } from '../canvas/flow';
import { StepNode, type StepNodeType } from '../canvas/StepNode';
import { STEP_KINDS } from '../canvas/step-kinds';
import { Link } from '../router';
import { Pending } from './Pending';

const NODE_TYPES = { step: StepNode };
const POLL_MS = 2000;

export function ExecutionPage({ workflowId, executionId }: { workflowId: string; executionId: string }) {
  const client = useClient();
  const [workflow, setWorkflow] = useState<WorkflowWithGraph | null>(null);
  const [pinned, setPinned] = useState<ExecutionGraph | null>(null);
  const [execution, setExecution] = useState<ExecutionWithSteps | null>(null);
  const [error, setError] = useState<string | null>(null);

  // The pinned graph never changes: read once, then only the run and the workflow are polled.
  const pinnedRead = useRef<ExecutionGraph | null>(null);
  const load = useCallback(async () => {
    try {
      const [w, e, g] = await Promise.all([
        client.getWorkflow({ params: { id: workflowId } }),
        client.getExecution({ params: { id: workflowId, executionId } }),
        pinnedRead.current ?? client.getExecutionGraph({ params: { id: workflowId, executionId } }),
      ]);
      pinnedRead.current = g;
      setWorkflow(w);
      setExecution(e);
      setPinned(g);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [client, workflowId, executionId]);
  // A run still in flight moves on: follow it while the page is visible, until it finishes.
  const finished = execution !== null && execution.completedAt !== null;
  usePolling(load, POLL_MS, !finished);
  // The names the step summaries mention (templates and started workflows), read once.
  const [names, setNames] = useState<Names>({ templates: new Map(), workflows: new Map() });
  useEffect(() => {
    void Promise.all([client.listTemplates({ query: { pageSize: 100 } }), client.listWorkflows({ query: { pageSize: 100 } })])
      .then(([t, w]) => setNames({ templates: new Map(t.data.map((x) => [x.id, x.name])), workflows: new Map(w.data.map((x) => [x.id, x.name])) }))
      .catch(() => undefined);
  }, [client]);

  // Every poll answers new objects: the canvas is rebuilt only when what it draws changed.
  const drawnWorkflow = useStable(workflow, workflow ? JSON.stringify(workflow.steps.map((s) => [s.id, s.position])) : '');
  const visits = useStable(execution?.steps, JSON.stringify(execution?.steps.map((s) => [s.stepId, s.status]) ?? null));
  const { built, edges } = useMemo(() => {
    if (!drawnWorkflow || !visits || !pinned) return { built: [], edges: [] };
    const graph = pinnedWorkflow(drawnWorkflow, pinned);
    const statusAt = new Map(visits.map((s) => [s.stepId, s.status as string]));
    const path = visits.map((s) => s.stepId);
    const taken = new Set(path.slice(1).map((to, i) => `${path[i]}>${to}`));
    return {
      built: nodesOf(graph, names, (step) => ({ runStatus: statusAt.get(step.id) ?? 'unvisited' })),
      edges: edgesOf(graph.transitions, (t) => taken.has(`${t.fromStepId}>${t.toStepId}`)),
    };
  }, [drawnWorkflow, pinned, visits, names]);
  // A run that moves on, or the names arriving, keep what the canvas measured.
  const [nodes, setNodes, onNodesChange] = useNodesState<StepNodeType>([]);
  useEffect(() => setNodes((old) => keepMeasured(old, built)), [built, setNodes]);

  if (!workflow || !execution) {
    return <Pending title="Execution" error={error} />;
  }

  return (
    <main className="editor">
      <div className="editor-head">
        <p className="crumbs">
          <Link href="/app/workflows">Workflows</Link> / <Link href={`/app/workflows/${workflow.id}`}>{workflow.name}</Link> /
        </p>
        <h1>Execution</h1>
        <span className={`badge run-${execution.status.toLowerCase()}`} data-testid="execution-status">
          {execution.status}
        </span>
        <span className="muted">
          started {new Date(execution.startedAt).toLocaleString()}
          {execution.completedAt ? `, finished ${new Date(execution.completedAt).toLocaleString()}` : ''} ·{' '}
          <span data-testid="execution-version">version {execution.workflowVersion}</span>
          {execution.workflowVersion !== workflow.version ? ` (the workflow is now at version ${workflow.version})` : ''}
        </span>
      </div>
      <p className="notice">
        Contact: <Link href={`/app/contacts/${execution.contactId}`}>view the contact</Link>
      </p>
      {execution.exitReason && <p className="info notice">Exit reason: {execution.exitReason}</p>}
      {execution.error && (
        <p className="error notice" role="alert">
          Error: {execution.error}
        </p>
      )}
      <div className="editor-body two">
        <section className="canvas" aria-label={`The path this execution took on version ${execution.workflowVersion}`}>
          <ReactFlowProvider>
            <ReactFlow
              nodes={nodes}
              edges={edges}
              onNodesChange={onNodesChange}
              nodeTypes={NODE_TYPES}
              nodesDraggable={false}
              nodesConnectable={false}
              fitView
              fitViewOptions={{ maxZoom: 1 }}
              proOptions={{ hideAttribution: true }}
            >
              <Background />
              <Controls showInteractive={false} />
            </ReactFlow>
          </ReactFlowProvider>
        </section>
        <aside className="panel" aria-label="Steps of this execution">
          <h2>Path</h2>
          <ol className="path" data-testid="execution-path">
            {execution.steps.map((s) => (
              <li key={s.stepId} className={`run-${s.status.toLowerCase()}`}>
                <h3>
                  {s.name} <span className="muted">({STEP_KINDS[s.type].label})</span>
                </h3>
                <p>
                  <span className={`badge run-${s.status.toLowerCase()}`}>{s.status}</span> {new Date(s.startedAt).toLocaleTimeString()}
                  {s.completedAt ? ` → ${new Date(s.completedAt).toLocaleTimeString()}` : ''}
                </p>
                {s.error && <p className="error">{s.error}</p>}
                {s.output !== null && s.output !== undefined && (
                  <details>
                    <summary>Output</summary>
                    <pre>{JSON.stringify(s.output, null, 2)}</pre>
                  </details>
                )}
              </li>
            ))}
          </ol>
          <h2>Context</h2>
          <pre>{JSON.stringify(execution.context, null, 2)}</pre>
        </aside>
      </div>
    </main>
  );
}

/** `value` as it was when `key` was first seen: a poll that brings the same content keeps the earlier object. */
function useStable<T>(value: T, key: string): T {
  const kept = useRef<{ key: string; value: T } | null>(null);
  if (kept.current === null || kept.current.key !== key) kept.current = { key, value };
  return kept.current.value;
}

/**
 * The pinned graph in the canvas's shape. Its steps keep the positions they have now when every one
 * of them still has one; otherwise the graph is laid out automatically.
 */
function pinnedWorkflow(workflow: WorkflowWithGraph, pinned: ExecutionGraph): WorkflowWithGraph {
  const now = new Map(workflow.steps.map((s) => [s.id, s.position]));
  const placed = pinned.steps.every((s) => s.type === 'TRIGGER' || now.get(s.id));
  return {
    ...workflow,
    steps: pinned.steps.map((s) => ({
      ...s,
      workflowId: workflow.id,
      key: '',
      position: placed ? (now.get(s.id) ?? null) : null,
    })) as WorkflowWithGraph['steps'],
    transitions: pinned.transitions.map((t) => ({ ...t, workflowId: workflow.id })),
  };
}
