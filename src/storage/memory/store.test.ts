import { describeStoreContract } from '../contract.test-helper.js';
import { MemoryStore } from './store.js';

describeStoreContract('memory', async () => new MemoryStore());
