/**
 * Preloaded into the workflow sandbox ahead of the workflow code (bundle-options.ts): errors made
 * there capture no stack.
 *
 * The SDK's promise hook makes an Error for every promise workflow code creates, and formats and
 * source-maps its stack, for the Web UI's stack-trace query. A run of P2's graph (TRIGGER →
 * WAIT_FOR_EVENT → WEBHOOK) creates 62 promises as its history replays; a worker replaying that
 * history spent 16 ms of CPU on it with stacks, 11 without (bench/NOTES.md, 2026-12-07). Where a
 * Trellis run waits is in its current details (the step's name and type), which the Web UI shows
 * without the query. `WORKFLOW_STACK_TRACES=true` when the code is bundled keeps stacks, to debug the
 * interpreter.
 */
Error.stackTraceLimit = 0;
