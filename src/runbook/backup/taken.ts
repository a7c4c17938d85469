import type { Manifest, ManifestFile } from '../../results/backup.js';
import type { StreamedRestore } from './scratch.js';
import type { SnapshotReads, SourceFacts, SourceIdentity } from './source-reads.js';

/** Both engines hand this back, so backup() builds one manifest whichever took the snapshot. */
export interface TakenSnapshot {
  facts: SourceFacts;
  reads: SnapshotReads;
  /** the dump file(s), first in the manifest's file list */
  dumpFiles: ManifestFile[];
  dump: Manifest['dump'];
  tool: { path: string; version: string };
  snapshot: string;
  identity: SourceIdentity;
  streamed?: StreamedRestore;
}
