/**
 * Revision blobs as workflow artifacts (`@actions/artifact`): one single-file artifact per blob (`skipArchive`, so
 * the artifact is named after the file), found again by listing the run's artifacts. A name cannot be uploaded twice
 * in a run, which makes a taken revision a 409 conflict. Artifacts belong to one workflow run: other jobs of the run
 * see them with the runner's token; other runs do not (that would need a token with actions:read).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Limit, STORE_CALLS_AT_ONCE, storeUnavailable, type Blob, type RevisionBlobs } from './blobs.js';

const DESCRIPTION = 'workflow artifacts';

type ArtifactModule = typeof import('@actions/artifact');
type ArtifactClient = InstanceType<ArtifactModule['DefaultArtifactClient']>;

export class ArtifactBlobs implements RevisionBlobs {
  readonly description = DESCRIPTION;
  private client: Promise<InstanceType<ArtifactModule['DefaultArtifactClient']>> | undefined;
  /** The listing that the lookups made so far wait for; it starts once they are all in (see `listing`). */
  private nextListing: Promise<Awaited<ReturnType<ArtifactClient['listArtifacts']>>> | undefined;
  private readonly downloads = new Limit(STORE_CALLS_AT_ONCE);

  constructor(
    private readonly scratchDir: string,
    private readonly retentionDays: number,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  unavailableReason(): string | undefined {
    if (!this.env.ACTIONS_RUNTIME_TOKEN)
      return 'ACTIONS_RUNTIME_TOKEN is not set (the runner gives it only to actions)';
    if (!this.env.ACTIONS_RESULTS_URL) return 'ACTIONS_RESULTS_URL is not set: the runner offers no artifact service';
    return undefined;
  }

  private artifacts() {
    this.client ??= import('@actions/artifact').then((m) => new m.DefaultArtifactClient());
    return this.client;
  }

  async create(name: string, content: string): Promise<'created' | 'exists'> {
    const client = await this.artifacts();
    const dir = await mkdtemp(join(this.scratchDir, 'artifact-'));
    try {
      const file = join(dir, name);
      await writeFile(file, content, 'utf8');
      await client.uploadArtifact(name, [file], dir, { retentionDays: this.retentionDays, skipArchive: true });
      return 'created';
    } catch (error) {
      if (/\(409\)|already exists/i.test((error as Error).message ?? '')) return 'exists';
      throw storeUnavailable(DESCRIPTION, `uploading ${name}`, error);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The run's artifacts, listed after this call was made. Lookups made together (a fan-in reading 50 records) share
   * one listing: it starts on the next turn of the event loop, once they have all asked, and a lookup made after it
   * started waits for the next one, so no lookup is answered by a list older than itself.
   */
  private listing(client: ArtifactClient) {
    if (this.nextListing === undefined) {
      const listing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (this.nextListing === listing) this.nextListing = undefined;
        return client.listArtifacts({ latest: true });
      });
      this.nextListing = listing;
    }
    return this.nextListing;
  }

  /** The artifact with the greatest name starting with `prefix`. */
  private async find(prefix: string) {
    const client = await this.artifacts();
    let listed;
    try {
      listed = await this.listing(client);
    } catch (error) {
      throw storeUnavailable(DESCRIPTION, `listing artifacts for ${prefix}…`, error);
    }
    // Names carry zero-padded revisions and times, so the greatest name is the newest.
    const [artifact] = listed.artifacts
      .filter((a) => a.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    return artifact;
  }

  async newestName(prefix: string): Promise<string | undefined> {
    return (await this.find(prefix))?.name;
  }

  async newest(prefix: string): Promise<Blob | undefined> {
    const client = await this.artifacts();
    const artifact = await this.find(prefix);
    if (artifact === undefined) return undefined;
    const dir = await mkdtemp(join(this.scratchDir, 'artifact-'));
    try {
      await this.downloads.run(() => client.downloadArtifact(artifact.id, { path: dir }));
      const [file] = await readdir(dir);
      if (file === undefined) throw new Error(`artifact ${artifact.name} holds no file`);
      return { name: artifact.name, content: await readFile(join(dir, file), 'utf8') };
    } catch (error) {
      throw storeUnavailable(DESCRIPTION, `downloading ${artifact.name}`, error);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
