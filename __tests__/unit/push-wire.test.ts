import { describe, expect, it } from '@jest/globals';
import { progressLine, relayServerLog } from '../../src/core/commands/context.js';
import { decodeLog, decodeProgress } from '../../src/mcp/wire.js';

describe('reading what a server pushes', () => {
  it('reads progress generously: string and fractional numbers, null for absent fields', () => {
    expect(decodeProgress({ progressToken: 't', progress: 40, total: 100, message: 'Uploading' })).toEqual({
      progress: 40,
      total: 100,
      message: 'Uploading',
    });
    expect(decodeProgress({ progress: '2.5', total: null, message: null })).toEqual({ progress: 2.5 });
    expect(decodeProgress({ progress: 'soon' })).toBeUndefined();
  });

  it('reads a log message at its level (unknown levels as info), its data as text', () => {
    expect(decodeLog({ level: 'debug', logger: 'db', data: 'connected' })).toEqual({
      level: 'debug',
      logger: 'db',
      text: 'connected',
    });
    expect(decodeLog({ level: 'loud', data: { rows: 3 } })).toEqual({ level: 'info', text: '{"rows":3}' });
    expect(decodeLog({ level: 'info' })).toBeUndefined();
  });

  it('renders progress lines and relays log lines at their level, inert', () => {
    expect(progressLine('job_x', { progress: 40, total: 100, message: 'Uploading' })).toBe(
      'job_x: progress 40/100: Uploading',
    );
    expect(progressLine('job_x', { progress: 1 / 3 })).toBe('job_x: progress 0.33');
    const lines: string[] = [];
    const log = {
      info: (m: string) => lines.push(`info ${m}`),
      warning: (m: string) => lines.push(`warning ${m}`),
      debug: (m: string) => lines.push(`debug ${m}`),
    };
    relayServerLog(log, 'job_x', { level: 'debug', text: 'a' });
    relayServerLog(log, 'job_x', { level: 'notice', text: 'b' });
    relayServerLog(log, 'job_x', { level: 'error', logger: 'db', text: '::error::c' });
    expect(lines[0]).toBe('debug job_x: server debug: a');
    expect(lines[1]).toBe('info job_x: server notice: b');
    expect(lines[2]).toMatch(/^warning job_x: server error \(db\): /);
    expect(lines[2]).not.toMatch(/(^|\s)::error::/);
  });
});
