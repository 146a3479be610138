/**
 * /app/workflows/:id — the canvas (SPEC §15): every step with its summary and active count, the
 * transitions with their branch labels; a palette to add steps, drag to connect, a side panel per
 * step, enable/disable, and the locked state with both ways out.
 */
import { Background, type Connection, Controls, type Edge, type Node, ReactFlow, ReactFlowProvider, useNodesState, useReactFlow } from '@xyflow/react';
import { type DragEvent, type KeyboardEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  activeCount,
  type Execution,
  type FieldError,
  fieldErrors,
  messageOf,
  type Step,
  type StepType,
  TrellisApiError,
  useClient,
  usePolling,
  type WorkflowStats,
  type WorkflowWithGraph,
} from '../api';
import { edgesOf, keepMeasured, type Names, nodesOf, outlets } from '../canvas/flow';
import { NODE_HEIGHT } from '../canvas/layout';
import { type Choice, StepForm } from '../canvas/StepForm';
import { NEXT, StepNode, type StepNodeType } from '../canvas/StepNode';
import { PALETTE, STEP_KINDS } from '../canvas/step-kinds';
import { Link } from '../router';
import { triggerLabel } from './WorkflowList';
import { Pending } from './Pending';

const NODE_TYPES = { step: StepNode };
const DRAFT_ID = 'new-step';
const POLL_MS = 2000;
const DRAG_TYPE = 'application/x-trellis-step';

type Selection = { kind: 'step'; id: string } | { kind: 'edge'; id: string } | { kind: 'draft'; type: StepType; position: { x: number; y: number } } | null;

export function WorkflowEditor({ workflowId }: { workflowId: string }) {
  return (
    <ReactFlowProvider>
      <Editor workflowId={workflowId} />
    </ReactFlowProvider>
  );
}

function Editor({ workflowId }: { workflowId: string }) {
  const client = useClient();
  const flow = useReactFlow();
  const [workflow, setWorkflow] = useState<WorkflowWithGraph | null>(null);
  const [stats, setStats] = useState<WorkflowStats>();
  const [executions, setExecutions] = useState<Execution[]>([]);
  const [templates, setTemplates] = useState<Choice[]>([]);
  const [workflows, setWorkflows] = useState<Choice[]>([]);
  const [selection, setSelection] = useState<Selection>(null);
  const [notice, setNotice] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const [nodes, setNodes, onNodesChange] = useNodesState<StepNodeType>([]);
  const wrapper = useRef<HTMLDivElement>(null);

  const load = useCallback(async () => {
    try {
      setWorkflow(await client.getWorkflow({ params: { id: workflowId } }));
    } catch (err) {
      setNotice({ kind: 'error', text: messageOf(err) });
    }
  }, [client, workflowId]);

  const poll = useCallback(async () => {
    try {
      const [s, e] = await Promise.all([
        client.getWorkflowStats({ params: { id: workflowId } }),
        client.listExecutions({ params: { id: workflowId }, query: { pageSize: 10 } }),
      ]);
      setStats(s);
      setExecutions(e.data);
    } catch {
      /* the next poll tries again */
    }
  }, [client, workflowId]);

  usePolling(poll, POLL_MS);
  useEffect(() => {
    void load();
    void client.listTemplates({ query: { pageSize: 100 } }).then((p) => setTemplates(p.data.map((t) => ({ id: t.id, name: t.name }))));
    void client
      .listWorkflows({ query: { pageSize: 100 } })
      .then((p) => setWorkflows(p.data.filter((w) => w.id !== workflowId).map((w) => ({ id: w.id, name: w.name }))));
  }, [client, workflowId, load]);

  const names: Names = useMemo(
    () => ({ templates: new Map(templates.map((t) => [t.id, t.name])), workflows: new Map(workflows.map((w) => [w.id, w.name])) }),
    [templates, workflows],
  );
  const activeAt = useMemo(() => new Map((stats?.steps ?? []).map((s) => [s.stepId, s.active])), [stats]);

  // The graph, the counts and a draft step become the canvas's nodes; a drag moves them locally until saved.
  useEffect(() => {
    if (!workflow) return;
    const built = nodesOf(workflow, names, (step) => ({ active: activeAt.get(step.id) ?? 0 }));
    if (selection?.kind === 'draft') {
      built.push({
        id: DRAFT_ID,
        type: 'step',
        position: selection.position,
        selected: true,
        data: { type: selection.type, name: `New ${STEP_KINDS[selection.type].label.toLowerCase()} step`, summary: 'Not saved yet', outlets: [], draft: true },
      });
    }
    // Each refresh of the counts keeps what the canvas measured.
    setNodes((old) => keepMeasured(old, built));
  }, [workflow, names, activeAt, selection, setNodes]);

  // A step added or removed may lie outside the view: show the whole graph again.
  const stepCount = nodes.length;
  useEffect(() => {
    if (stepCount) window.requestAnimationFrame(() => void flow.fitView({ maxZoom: 1 }));
  }, [stepCount, flow]);

  const edges: Edge[] = useMemo(
    () => (workflow ? edgesOf(workflow.transitions).map((e) => ({ ...e, selected: selection?.kind === 'edge' && selection.id === e.id })) : []),
    [workflow, selection],
  );

  const active = activeCount(stats);
  const locked = Boolean(workflow?.enabled && active > 0);

  /** Runs an edit; a refusal (locked, a graph rule) shows as the notice, and the graph reloads either way. */
  const edit = async (what: () => Promise<unknown>, done?: string): Promise<boolean> => {
    try {
      await what();
      setNotice(done ? { kind: 'info', text: done } : null);
      return true;
    } catch (err) {
      setNotice({ kind: 'error', text: messageOf(err) });
      if (err instanceof TrellisApiError && err.code === 'WORKFLOW_LOCKED') void poll();
      return false;
    } finally {
      await load();
    }
  };

  const addDraft = (type: StepType, position?: { x: number; y: number }) => {
    const lowest = nodes.reduce((max, n) => Math.max(max, n.position.y), 0);
    const left = nodes.find((n) => n.data.type === 'TRIGGER')?.position.x ?? 0;
    setSelection({ kind: 'draft', type, position: position ?? { x: left, y: lowest + NODE_HEIGHT + 60 } });
  };

  const onDrop = (event: DragEvent) => {
    const type = event.dataTransfer.getData(DRAG_TYPE) as StepType;
    if (!type) return;
    event.preventDefault();
    addDraft(type, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  };

  const onConnect = (c: Connection) => {
    if (c.source === DRAFT_ID || c.target === DRAFT_ID) return;
    const branch = c.sourceHandle && c.sourceHandle !== NEXT ? c.sourceHandle : undefined;
    void edit(() => client.createTransition({ params: { id: workflowId }, body: { fromStepId: c.source, toStepId: c.target, branch } }));
  };

  const onNodeDragStop = (_: unknown, node: Node) => {
    if (node.id === DRAFT_ID) {
      if (selection?.kind === 'draft') setSelection({ ...selection, position: node.position });
      return;
    }
    const position = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
    void edit(() => client.updateStep({ params: { id: workflowId, stepId: node.id }, body: { position } }));
  };

  // From the keyboard: Enter on a focused step or connection opens it in the side panel, as a click does.
  const onCanvasKey = (event: KeyboardEvent) => {
    if (event.key !== 'Enter') return;
    const target = event.target as Element;
    const step = target.closest('.react-flow__node')?.getAttribute('data-id');
    const edge = target.closest('.react-flow__edge')?.getAttribute('data-id');
    if (step && step !== DRAFT_ID) setSelection({ kind: 'step', id: step });
    else if (edge) setSelection({ kind: 'edge', id: edge });
  };

  if (!workflow) {
    return <Pending title="Workflow" error={notice?.text} />;
  }

  const selectedStep = selection?.kind === 'step' ? workflow.steps.find((s) => s.id === selection.id) : undefined;
  const selectedEdge = selection?.kind === 'edge' ? workflow.transitions.find((t) => t.id === selection.id) : undefined;
  const stepName = (id: string) => workflow.steps.find((s) => s.id === id)?.name ?? 'a step';

  return (
    <main className="editor">
      <div className="editor-head">
        <p className="crumbs">
          <Link href="/app/workflows">Workflows</Link> /
        </p>
        <h1>{workflow.name}</h1>
        <span className={`badge status-${workflow.status.toLowerCase()}`} data-testid="workflow-status">
          {workflow.status}
        </span>
        <span className="muted">
          {triggerLabel(workflow)} · version {workflow.version} · <span data-testid="workflow-active">{active}</span> active
        </span>
        <button
          type="button"
          onClick={() => edit(() => client.updateWorkflow({ params: { id: workflowId }, body: { enabled: !workflow.enabled } }))}
          disabled={workflow.archived}
        >
          {workflow.enabled ? 'Disable workflow' : 'Enable workflow'}
        </button>
      </div>
      {locked && (
        <section className="locked" aria-labelledby="locked-heading" data-testid="locked">
          <h2 id="locked-heading">This workflow is locked</h2>
          <p>
            It is enabled and {active} execution{active === 1 ? ' is' : 's are'} active, so its steps and connections cannot change. Disable it (active
            executions finish on the version they started with) or cancel every active execution to edit it.
          </p>
          <div className="row">
            <button
              type="button"
              onClick={() =>
                edit(() => client.updateWorkflow({ params: { id: workflowId }, body: { enabled: false } }), 'Disabled: you can edit the workflow now.')
              }
            >
              Disable workflow
            </button>
            <button
              type="button"
              className="danger"
              onClick={() =>
                edit(async () => {
                  const { cancelled } = await client.cancelAllExecutions({ params: { id: workflowId } });
                  await poll();
                  return cancelled;
                }, 'Cancelled every active execution.')
              }
            >
              Cancel all {active} active executions
            </button>
          </div>
        </section>
      )}
      {notice && (
        <p role={notice.kind === 'error' ? 'alert' : 'status'} className={notice.kind === 'error' ? 'error notice' : 'info notice'}>
          {notice.text}
        </p>
      )}
      <div className="editor-body">
        <nav className="palette" aria-label="Add a step">
          <h2>Add a step</h2>
          <p className="help">Click, or drag onto the canvas.</p>
          {PALETTE.map((type) => (
            <button
              key={type}
              type="button"
              draggable
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_TYPE, type);
                e.dataTransfer.effectAllowed = 'move';
              }}
              onClick={() => addDraft(type)}
            >
              {STEP_KINDS[type].label}
            </button>
          ))}
        </nav>
        <section className="canvas" ref={wrapper} aria-label="Workflow canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop} onKeyDown={onCanvasKey}>
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange}
            onConnect={onConnect}
            onNodeDragStop={onNodeDragStop}
            onNodeClick={(_, node) => (node.id === DRAFT_ID ? undefined : setSelection({ kind: 'step', id: node.id }))}
            onEdgeClick={(_, edge) => setSelection({ kind: 'edge', id: edge.id })}
            onPaneClick={() => setSelection(null)}
            deleteKeyCode={null}
            fitView
            fitViewOptions={{ maxZoom: 1 }}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
          </ReactFlow>
        </section>
        <aside className="panel" aria-label="Details">
          {selection?.kind === 'draft' && (
            <>
              <h2>New {STEP_KINDS[selection.type].label.toLowerCase()} step</h2>
              <StepForm
                key={`draft-${selection.type}`}
                type={selection.type}
                name={`${STEP_KINDS[selection.type].label}`}
                config={STEP_KINDS[selection.type].defaults}
                templates={templates}
                workflows={workflows}
                submitLabel="Add step"
                onSubmit={async (name, config) => {
                  try {
                    const step = await client.createStep({
                      params: { id: workflowId },
                      body: { type: selection.type, name, config: config ?? {}, position: selection.position } as never,
                    });
                    setNotice(null);
                    await load();
                    setSelection({ kind: 'step', id: step.id });
                    return [];
                  } catch (err) {
                    return refusal(err, setNotice);
                  }
                }}
              />
              <button type="button" className="quiet" onClick={() => setSelection(null)}>
                Discard
              </button>
            </>
          )}
          {selectedStep && (
            <StepPanel
              key={`${selectedStep.id}-${workflow.version}`}
              step={selectedStep}
              workflow={workflow}
              templates={templates}
              workflows={workflows}
              onSaved={load}
              onNotice={setNotice}
              onEdit={edit}
              onClose={() => setSelection(null)}
            />
          )}
          {selectedEdge && (
            <>
              <h2>Connection</h2>
              <p>
                From <strong>{stepName(selectedEdge.fromStepId)}</strong>
                {selectedEdge.branch ? ` (branch “${selectedEdge.branch}”)` : ''} to <strong>{stepName(selectedEdge.toStepId)}</strong>.
              </p>
              <button
                type="button"
                className="danger"
                onClick={async () => {
                  if (await edit(() => client.deleteTransition({ params: { id: workflowId, transitionId: selectedEdge.id } }))) setSelection(null);
                }}
              >
                Delete connection
              </button>
            </>
          )}
          {!selection && <Overview workflow={workflow} executions={executions} onSelect={(id) => setSelection({ kind: 'step', id })} />}
        </aside>
      </div>
    </main>
  );
}

/** A refused save: field errors go to the form, anything else to the notice. */
function refusal(err: unknown, setNotice: (n: { kind: 'error'; text: string }) => void): FieldError[] {
  const fields = fieldErrors(err);
  if (!fields.length) setNotice({ kind: 'error', text: messageOf(err) });
  return fields.length ? fields : [];
}

function StepPanel(props: {
  step: Step;
  workflow: WorkflowWithGraph;
  templates: Choice[];
  workflows: Choice[];
  onSaved: () => Promise<void>;
  onNotice: (n: { kind: 'error' | 'info'; text: string } | null) => void;
  onEdit: (what: () => Promise<unknown>, done?: string) => Promise<boolean>;
  onClose: () => void;
}) {
  const client = useClient();
  const { step, workflow } = props;
  const outgoing = workflow.transitions.filter((t) => t.fromStepId === step.id);
  // SPEC §5.4: splice is refused for the TRIGGER and for a branching step with labelled transitions.
  const splices = step.type !== 'TRIGGER' && !outgoing.some((t) => t.branch !== null);
  const [target, setTarget] = useState('');
  const [branch, setBranch] = useState('');
  const exits = outlets(step);
  return (
    <>
      <h2>
        {STEP_KINDS[step.type].label}: {step.name}
      </h2>
      <StepForm
        type={step.type}
        name={step.name}
        config={step.config as Record<string, unknown>}
        templates={props.templates}
        workflows={props.workflows}
        submitLabel="Save step"
        onSubmit={async (name, config) => {
          try {
            await client.updateStep({ params: { id: workflow.id, stepId: step.id }, body: { name, ...(config ? { config } : {}) } });
            props.onNotice({ kind: 'info', text: 'Saved.' });
            await props.onSaved();
            return [];
          } catch (err) {
            return refusal(err, props.onNotice);
          }
        }}
      />
      {outgoing.length > 0 && (
        <>
          <h3>Connections</h3>
          <ul className="plain" data-testid="step-connections">
            {outgoing.map((t) => {
              const to = workflow.steps.find((s) => s.id === t.toStepId)?.name ?? 'a step';
              return (
                <li key={t.id}>
                  {t.branch ? `${t.branch}: ` : ''}to {to}{' '}
                  <button
                    type="button"
                    className="link"
                    aria-label={`Delete the connection${t.branch ? ` of branch ${t.branch}` : ''} to ${to}`}
                    onClick={() => void props.onEdit(() => client.deleteTransition({ params: { id: workflow.id, transitionId: t.id } }))}
                  >
                    Delete
                  </button>
                </li>
              );
            })}
          </ul>
        </>
      )}
      {step.type === 'SEND_EMAIL' && (
        <p>
          <Link href={`/app/templates/${step.config.templateId}`}>Edit the template</Link>
        </p>
      )}
      {step.type !== 'EXIT' && (
        <form
          className="stack connect"
          onSubmit={(e) => {
            e.preventDefault();
            if (target)
              void props.onEdit(() =>
                client.createTransition({ params: { id: workflow.id }, body: { fromStepId: step.id, toStepId: target, branch: branch || undefined } }),
              );
          }}
        >
          <h3>Connect to another step</h3>
          {exits.length > 1 || exits[0] !== '' ? (
            <>
              <label htmlFor="connect-branch">Branch</label>
              <select id="connect-branch" value={branch} onChange={(e) => setBranch(e.target.value)}>
                {exits.map((o) => (
                  <option key={o} value={o}>
                    {o || 'any outcome'}
                  </option>
                ))}
              </select>
            </>
          ) : null}
          <label htmlFor="connect-target">Next step</label>
          <select id="connect-target" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Choose…</option>
            {workflow.steps
              .filter((s) => s.id !== step.id && s.type !== 'TRIGGER')
              .map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
          </select>
          <button type="submit">Connect</button>
        </form>
      )}
      {step.type !== 'TRIGGER' && (
        <div className="stack">
          <button
            type="button"
            className="danger"
            onClick={async () => {
              if (await props.onEdit(() => client.deleteStep({ params: { id: workflow.id, stepId: step.id }, query: splices ? { splice: 'true' } : {} })))
                props.onClose();
            }}
          >
            Delete step
          </button>
          <p className="help">{splices ? 'The steps before it are reconnected to the step after it.' : 'Its connections are deleted with it.'}</p>
        </div>
      )}
      <button type="button" className="quiet" onClick={props.onClose}>
        Close
      </button>
    </>
  );
}

function Overview({ workflow, executions, onSelect }: { workflow: WorkflowWithGraph; executions: Execution[]; onSelect: (id: string) => void }) {
  return (
    <>
      <h2>Steps</h2>
      <p className="help">Select a step to edit it.</p>
      <ul className="plain">
        {workflow.steps.map((s) => (
          <li key={s.id}>
            <button type="button" className="link" onClick={() => onSelect(s.id)}>
              {s.name} <span className="muted">({STEP_KINDS[s.type].label})</span>
            </button>
          </li>
        ))}
      </ul>
      <h2>Recent executions</h2>
      {executions.length === 0 ? (
        <p className="help">None yet. Enable the workflow and track its trigger event.</p>
      ) : (
        <ul className="plain executions">
          {executions.map((e) => (
            <li key={e.id}>
              <Link href={`/app/workflows/${workflow.id}/executions/${e.id}`}>
                {new Date(e.startedAt).toLocaleString()} · {e.status}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
