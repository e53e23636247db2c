import { describe, expect, it } from '@jest/globals';
import { maskServerUrl, serverUrlSecrets } from '../../src/action/secrets.js';
import { FakeHost } from './fakes.js';

describe('serverUrlSecrets', () => {
  it('is empty for a URL without a query, or one that does not parse', () => {
    expect(serverUrlSecrets('https://mcp.example.com/mcp')).toEqual([]);
    expect(serverUrlSecrets('https://mcp.example.com/mcp?')).toEqual([]);
    expect(serverUrlSecrets('not a url')).toEqual([]);
  });

  it('masks the query, each pair, and each value long enough to be a key', () => {
    expect(serverUrlSecrets('https://mcp.example.com/mcp?token=s3cret&v=1&flag')).toEqual([
      'token=s3cret&v=1&flag',
      'token=s3cret',
      's3cret',
      'v=1',
      'flag',
    ]);
  });

  it('masks a value as written in the URL and as decoded', () => {
    const url = new URL('https://mcp.example.com/mcp?key=a b+c/d%2Fe').toString();
    expect(serverUrlSecrets(url)).toEqual(expect.arrayContaining(['a%20b+c/d%2Fe', 'a b c/d/e']));
  });

  it('keeps a value that is not valid percent-encoding as it is', () => {
    expect(serverUrlSecrets('https://mcp.example.com/mcp?key=100%zz')).toEqual(
      expect.arrayContaining(['key=100%zz', '100%zz']),
    );
  });
});

describe('maskServerUrl', () => {
  it('gives every secret of the URL to the host', () => {
    const host = new FakeHost();
    maskServerUrl(host, 'https://mcp.example.com/mcp?api_key=k-123456');
    expect(host.secrets).toEqual(['api_key=k-123456', 'k-123456']);
  });
});
