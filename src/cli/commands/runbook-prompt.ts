import { createInterface } from 'node:readline/promises';
import type { FailureChoice, RunbookHooks, StepFailure, StepRecord } from '../../runbooks/index.js';
import { print } from '../output.js';

interface PromptOptions {
  confirm: string[];
  yes?: boolean;
  json?: boolean;
  runDrill: RunbookHooks['runDrill'];
  onStep: ((step: StepRecord) => void) | undefined;
}

/**
 * The operator's side of a run: in a terminal each checklist item is asked
 * and a failed step offers retry, skip or abort; in a script (no terminal, or
 * --json) a manual step passes only when confirmed beforehand, and a failure aborts.
 */
export function operatorHooks(options: PromptOptions): RunbookHooks {
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true && options.json !== true;
  return {
    runDrill: options.runDrill,
    ...(options.onStep ? { onStep: options.onStep } : {}),
    async confirm(step, items) {
      if (options.yes) return '--yes';
      if (options.confirm.includes(step)) return '--confirm';
      if (!interactive) return null;
      return (await askChecklist(items)) ? 'terminal' : null;
    },
    async onFailure(failure: StepFailure): Promise<FailureChoice> {
      if (!interactive) return 'abort';
      return askChoice(failure);
    },
  };
}

async function askChecklist(items: readonly string[]): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (const item of items) {
      const answer = (await rl.question(`    [ ] ${item}  done? [y/N] `)).trim().toLowerCase();
      if (answer !== 'y' && answer !== 'yes') return false;
    }
    return true;
  } finally {
    rl.close();
  }
}

async function askChoice(failure: StepFailure): Promise<FailureChoice> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    print(`  step ${failure.step} failed (attempt ${failure.attempts}): ${failure.error}`);
    for (;;) {
      const answer = (await rl.question('  [r]etry, [s]kip (go on without it) or [a]bort? ')).trim().toLowerCase();
      if (answer === 'r' || answer === 'retry') return 'retry';
      if (answer === 's' || answer === 'skip') return 'skip';
      if (answer === 'a' || answer === 'abort') return 'abort';
    }
  } finally {
    rl.close();
  }
}
