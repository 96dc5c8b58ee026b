// The Node entry (ESM): the same client as node.cjs, with named exports.
import OSS from './node.cjs';

export default OSS;
export { OSS };
export const { crc64, Crc64, combineCrc64 } = OSS;
