/** Takes over this process's stdout (where workflow commands are written): every chunk goes to `sink`, as text. */
export function captureStdout(sink: (text: string) => void): () => void {
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}
