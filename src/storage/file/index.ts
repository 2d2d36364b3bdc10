export type { FileStoreHooks } from './apply.js';
export type { BackupInfo } from './backups.js';
export type { ScanEntry } from './codec.js';
export { FileStore, type FileStoreOptions } from './store.js';
