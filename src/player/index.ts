/**
 * @file index.ts
 * @brief The player layer's public surface: the Player, its stats, and the backend factory.
 */
export { Player, type PlayerOptions, type PlayerStats } from './player';
export { createBackend } from './backends';
export { BACKEND_NAMES, noDisplay, type Backend, type BackendName } from './backend';
export { listPending, checkFolder } from './folder';
export { createDurationProbe, type DurationProbe } from './probe';
export { decidePace, ArrivalWindow, type PaceInput, type PaceDecision } from './pace';
