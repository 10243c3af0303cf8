// The one error a snapshot save or restore throws for anything wrong with the files or
// the machine they describe: a one-line message naming the file and what is at fault.

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}
