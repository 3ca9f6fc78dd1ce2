// How often live output travels (see LIVE_UPLOAD_GAP_SECONDS): chosen by the client when it
// launches a run, obeyed by the instance-side wrapper, and used by the reader to time its polls.
import type { RunTarget } from './api';
import { FLEET_CADENCE_MIN_TARGETS, LIVE_UPLOAD_GAP_SECONDS } from './defaults';

/**
 * Seconds between two uploads of continuous output for a run. `targets` is the number of instances
 * the run is expected to reach (undefined when unknown: a tag target whose instances could not be
 * counted is taken for a fleet).
 */
export function uploadGapSeconds(
  request: { target: RunTarget; unwatched?: boolean },
  targets: number | undefined,
): number {
  if (request.unwatched) return LIVE_UPLOAD_GAP_SECONDS.unwatched;
  const count = targets ?? (request.target.kind === 'instances' ? request.target.instanceIds.length : undefined);
  return count !== undefined && count < FLEET_CADENCE_MIN_TARGETS
    ? LIVE_UPLOAD_GAP_SECONDS.watched
    : LIVE_UPLOAD_GAP_SECONDS.fleet;
}
