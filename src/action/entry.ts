/** The Action's entry points: each runs one step inside the error boundary (loaded by src/entries on demand). */
import { main } from './boundary.js';
import { setupStep } from './setup.js';
import { callStep, cancelStep, postStep, showStep, submitStep, waitStep } from './steps.js';

const STEPS = {
  call: callStep,
  cancel: cancelStep,
  post: postStep,
  setup: setupStep,
  show: showStep,
  submit: submitStep,
  wait: waitStep,
} as const;

export function runEntry(name: keyof typeof STEPS): void {
  main(name, STEPS[name]);
}
