import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { workflowPollers } from '../../temporal/worker';

describe("the execution worker's workflow task polls", () => {
  it('follow the backlog on each queue up to half the slots of the default worker', () => {
    const slots = loadConfig({ DATABASE_URL: 'postgres://localhost/trellis' }).worker.maxConcurrentWorkflowTasks;
    expect(slots).toBe(40);
    expect(workflowPollers(slots)).toEqual({ type: 'autoscaling', maximum: 20, initial: 5 });
  });

  it('never let one queue hold the slots the other needs, at any size the configuration allows', () => {
    for (let slots = 2; slots <= 200; slots++) {
      const { maximum, initial } = workflowPollers(slots);
      // Polls on both queues at their maximum leave no queue without a slot to poll with.
      expect(2 * maximum).toBeLessThanOrEqual(slots);
      expect(maximum).toBeGreaterThanOrEqual(1);
      // The SDK refuses a first number of polls above the maximum.
      expect(initial).toBeLessThanOrEqual(maximum);
      expect(initial).toBeGreaterThanOrEqual(1);
    }
  });
});
