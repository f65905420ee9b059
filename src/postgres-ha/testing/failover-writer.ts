/**
 * The HA tests' writer is the failover drill's synthetic writer
 * (src/drills/sequence-writer.ts): one autocommit INSERT of an increasing
 * sequence number at a time into whichever member is the primary.
 */
export { SequenceWriter as FailoverWriter, type Ack, type WriterTarget as Target } from '../../drills/sequence-writer.js';
