/** One step's box on the canvas: type, name, config summary, active count; handles to connect it. */
import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import type { StepType } from '../api';
import { STEP_KINDS } from './step-kinds';

export interface StepNodeData extends Record<string, unknown> {
  type: StepType;
  name: string;
  summary: string;
  /** Active executions at this step (from /stats); undefined where counts are not shown. */
  active?: number;
  /** Outgoing handles: branch names, and/or '' for an unbranched transition; none for EXIT. */
  outlets: string[];
  /** On an execution's page: the status this run had at the step, or 'unvisited'. */
  runStatus?: string;
  draft?: boolean;
}

export type StepNodeType = Node<StepNodeData, 'step'>;

/** The handle id of an unbranched transition. */
export const NEXT = 'next';

export function StepNode({ data, selected }: NodeProps<StepNodeType>) {
  const classes = ['step', `type-${data.type.toLowerCase()}`];
  if (selected) classes.push('selected');
  if (data.draft) classes.push('draft');
  if (data.runStatus) classes.push(`run-${data.runStatus.toLowerCase()}`);
  return (
    <div className={classes.join(' ')} data-step-name={data.name}>
      {data.type !== 'TRIGGER' && (
        <Handle type="target" position={Position.Top} title={`Connect into ${data.name}`} role="img" aria-label={`Incoming connection point of ${data.name}`} />
      )}
      <div className="step-type">{STEP_KINDS[data.type].label}</div>
      <div className="step-name">{data.name}</div>
      <div className="step-summary" title={data.summary}>
        {data.summary || '\u00a0'}
      </div>
      {data.active !== undefined && (
        <div className={`step-active${data.active ? ' busy' : ''}`} data-testid="step-active">
          {data.active} active
        </div>
      )}
      {data.runStatus && <div className="step-run">{data.runStatus === 'unvisited' ? 'not visited' : data.runStatus}</div>}
      {data.outlets.map((outlet, i) => (
        <Handle
          key={outlet || NEXT}
          id={outlet || NEXT}
          type="source"
          position={Position.Bottom}
          style={{ left: `${((i + 1) / (data.outlets.length + 1)) * 100}%` }}
          title={outlet ? `Connect branch ${outlet} of ${data.name}` : `Connect from ${data.name}`}
          role="img"
          aria-label={outlet ? `Outgoing connection point, branch ${outlet}, of ${data.name}` : `Outgoing connection point of ${data.name}`}
          data-branch={outlet || NEXT}
        >
          {outlet && <span className="handle-label">{outlet}</span>}
        </Handle>
      ))}
    </div>
  );
}
