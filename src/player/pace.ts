/**
 * @file pace.ts
 * @brief Keeping pace with live: the playback speed, and as a last resort a skip, from the arrival
 *        cadence and the durations of the chunks. Pure: no clock, no timers, no I/O.
 *
 * How it works: chunks arrive at the source's cadence (the course's server: one every 1.8 s) and
 * each holds its own duration of video (2.14 s for the course's files), so played at normal
 * speed the backlog grows. The ArrivalWindow keeps the last PLAYER_PACE_WINDOW arrivals (when
 * each was seen, how long it plays) and measures the arrival rate: seconds of video received per
 * second of wall time. When a chunk starts, decidePace picks the speed for that chunk:
 *
 *     backlog = behind + min(chunk, rate * sinceArrival)
 *     speed   = clamp(rate + (backlog - target) / catchup, min, max)
 *
 * `rate` alone keeps the backlog where it is (1.19 for the course's server); the second term
 * drains, over about `catchup` seconds, whatever waits above the target (the `--buffer` chunks).
 * `behind` (the video waiting) jumps by a whole chunk at each arrival; adding the part of the
 * next chunk the source has produced since the last arrival makes the backlog continuous, so
 * the speed moves by about 0.01 from one chunk to the next instead of ±0.1 (10 simulated
 * minutes at 1.8 s: 3 steps above 0.03 in 334 chunks instead of 158; test/unit/player-pace.test.ts).
 * The speed is never below normal: arrivals slower than playback are stalls, reported as such.
 * Only when the player is already at the top of the range and more than `maxBehind` chunks wait
 * does it skip one (the oldest waiting): one per chunk started, never a whole backlog at once.
 */
import { PLAYER_CATCHUP_S, PLAYER_PACE_WINDOW, PLAYER_SPEED_MAX, PLAYER_SPEED_MIN, PLAYER_SPEED_STEP } from '../constants';

/** The documented range and dynamics of the speed control. */
export interface PaceLimits {
  /** Slowest speed (factor of normal). */
  minSpeed: number;
  /** Fastest speed (factor of normal). */
  maxSpeed: number;
  /** Seconds over which a backlog above the target is drained. */
  catchupS: number;
  /** Speed resolution: decisions are rounded to a multiple of it. */
  step: number;
}

/** The limits from src/constants.ts. */
export const DEFAULT_PACE_LIMITS: PaceLimits = {
  minSpeed: PLAYER_SPEED_MIN, maxSpeed: PLAYER_SPEED_MAX, catchupS: PLAYER_CATCHUP_S, step: PLAYER_SPEED_STEP,
};

/** The last arrivals of chunks: when each was seen (ms) and how many seconds of video it holds. */
export class ArrivalWindow {
  private readonly at: number[] = [];
  private readonly seconds: number[] = [];

  /** @param size Arrivals kept (>= 2). */
  constructor(private readonly size = PLAYER_PACE_WINDOW) {}

  /**
   * @brief Records one arrival; the oldest is forgotten beyond `size`.
   * @param atMs When the chunk was seen (any monotonic clock, ms; not before the previous one).
   * @param seconds Its duration of video, s.
   */
  add(atMs: number, seconds: number): void {
    this.at.push(atMs);
    this.seconds.push(seconds);
    if (this.at.length > this.size) {
      this.at.shift();
      this.seconds.shift();
    }
  }

  /**
   * @brief Seconds of video received per second of wall time over the window.
   * @return Null until two arrivals at different times are known.
   */
  rate(): number | null {
    if (this.at.length < 2) return null;
    const span = (this.at[this.at.length - 1] - this.at[0]) / 1000;
    if (!(span > 0)) return null;
    let video = 0;
    for (let i = 1; i < this.seconds.length; i++) video += this.seconds[i];
    return video / span;
  }

  /** @brief Mean seconds between two arrivals over the window, or null until two are known. */
  cadenceS(): number | null {
    if (this.at.length < 2) return null;
    return (this.at[this.at.length - 1] - this.at[0]) / 1000 / (this.at.length - 1);
  }

  /** @brief Mean seconds of video per chunk over the window, or null while empty. */
  chunkS(): number | null {
    if (this.seconds.length === 0) return null;
    return this.seconds.reduce((a, b) => a + b, 0) / this.seconds.length;
  }
}

/** What the decision looks at, when a chunk starts. */
export interface PaceInput {
  /** ArrivalWindow.rate(): video seconds arriving per wall second, or null while unknown (taken as 1). */
  rate: number | null;
  /** Seconds of video waiting: the chunk starting now (whole) and every chunk after it. */
  behindS: number;
  /** Seconds since the newest chunk arrived (0 when unknown). */
  sinceArrivalS: number;
  /** Seconds of video per chunk (ArrivalWindow.chunkS(), else the nominal duration). */
  chunkS: number;
  /** Seconds of video to hold waiting (the `--buffer` chunks' worth). */
  targetS: number;
  /** Chunks waiting, the one starting now included. */
  waiting: number;
  /** Chunks waiting beyond which, at top speed, one is skipped. */
  maxBehind: number;
}

/** The decision for the chunk starting now. */
export interface PaceDecision {
  /** Playback speed, a multiple of `step` within [minSpeed, maxSpeed]. */
  speed: number;
  /** Skip (delete unshown) the oldest chunk waiting after the one starting. */
  skip: boolean;
}

/**
 * @brief Picks the playback speed for the chunk that starts now, and whether to skip one.
 * @param input Arrival rate, backlog and bounds (see PaceInput).
 * @param limits Speed range and dynamics (default: src/constants.ts).
 * @return The speed, and `skip` only when at maxSpeed with more than maxBehind chunks waiting.
 */
export function decidePace(input: PaceInput, limits: PaceLimits = DEFAULT_PACE_LIMITS): PaceDecision {
  const rate = input.rate ?? 1;
  const backlog = input.behindS + Math.min(input.chunkS, Math.max(0, input.sinceArrivalS) * rate);
  const wanted = rate + (backlog - input.targetS) / limits.catchupS;
  const stepped = Math.round(wanted / limits.step) * limits.step;
  const speed = Number(Math.min(limits.maxSpeed, Math.max(limits.minSpeed, stepped)).toFixed(6));
  return { speed, skip: speed >= limits.maxSpeed && input.waiting > input.maxBehind };
}
