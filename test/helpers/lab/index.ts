/**
 * @file index.ts
 * @brief The lab: hosts as network namespaces on a private bridge (lab.ts), faults from the
 * kernel (faults.ts), detection and repair measured from logs and folders (measure.ts).
 */
export { Lab, Host, PORTS } from './lab';
export type { LabOptions, LabEvent, LabProc } from './lab';
export { labUnavailable, removeLeftovers, LAB_PREFIX } from './netns';
export { inject, FAULT_KINDS } from './faults';
export type { ActiveFault, FaultKind, FaultOptions } from './faults';
export { Progress, figures, firstDetection, LAG_OUT } from './measure';
export type { FaultFigures, Outage, Detection } from './measure';
export { rejoined, folderProblems } from './checks';
export type { Downtime } from './checks';
