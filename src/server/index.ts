/**
 * @file index.ts
 * @brief The streaming server layer: the server, the control client, the metrics endpoint.
 */
export { StreamServer, normalizeIp, type StreamServerOptions } from './server';
export { sendControl, MAX_CONTROL_REPLY_BYTES, type SendControlOptions } from './client';

