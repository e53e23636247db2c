/**
 * Large results, kept beside their record instead of inside it. A shared store writes a whole record per revision,
 * and a result of megabytes in every revision (and in every index entry) would make each status change as large as
 * the result. The record keeps `resultRef` ({bytes, sha256} of the result's canonical text) and every store keeps the
 * text once per job: a result file on disk, one write-once blob in a shared store.
 */
import { crypto } from '../core/lazy-crypto.js';
import { JobError } from '../core/errors.js';
import { RESULT_INLINE_LIMIT_BYTES, resultFileText, type JobRecord, type ResultRef } from '../core/record.js';

export interface ExternalResult {
  /** The record as stored: `resultRef` instead of `result`. */
  record: JobRecord;
  /** The result's canonical text, to keep beside it. */
  text: string;
  ref: ResultRef;
}

/** The record to store and the result to keep beside it, when the record's result is too large to hold. */
export function externalize(record: JobRecord): ExternalResult | undefined {
  if (record.result === undefined) return undefined;
  if (Buffer.byteLength(JSON.stringify(record.result), 'utf8') <= RESULT_INLINE_LIMIT_BYTES) return undefined;
  const text = resultFileText(record.result);
  const ref = refOf(text);
  const { result: _kept, ...rest } = record;
  return { record: { ...rest, resultRef: ref }, text, ref };
}

export function refOf(text: string): ResultRef {
  return {
    bytes: Buffer.byteLength(text, 'utf8'),
    sha256: crypto().createHash('sha256').update(text, 'utf8').digest('hex'),
  };
}

/** The result in `text`, once it is checked to be the one the record refers to. `source` names where it was read. */
export function readResult(text: string, record: JobRecord, source: string): unknown {
  const want = record.resultRef;
  if (want === undefined) return record.result;
  const got = refOf(text);
  if (got.sha256 !== want.sha256 || got.bytes !== want.bytes) {
    throw new JobError(
      'RECORD_INVALID',
      `The result of job ${record.jobId} in ${source} is not the one its record refers to (${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}…; the record says ${want.bytes} bytes, sha256 ${want.sha256.slice(0, 12)}…)`,
      { path: source, jobId: record.jobId },
    );
  }
  return JSON.parse(text) as unknown;
}
