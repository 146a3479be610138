/** The entry point of a render thread (piscina calls the default export with each task). */
import { runRenderTask, type RenderOutcome, type RenderTask } from './render-task';

export default function (task: RenderTask): RenderOutcome {
  return runRenderTask(task);
}
