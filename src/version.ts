/** Who we are on the wire and in bug reports. Kept equal to package.json's version by a test. */
export const CLIENT_INFO = { name: 'mcp-jobs', version: '0.1.0' } as const;
