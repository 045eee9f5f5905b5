// ESM entry: a thin wrapper over the CommonJS implementation, so both entry
// points share one module instance (one library load, one set of buffers).
import cjs from './index.js';

export const { DashMap, DashMapError, Status, KEEP, libraryVersion, libraryPath } = cjs;
export default DashMap;
