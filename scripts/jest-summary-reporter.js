// Prints one plain closing line, `Tests: N passed, N failed, N skipped`, after Jest's own summary, so any CI log
// reader sees the totals in the common form.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`Tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
