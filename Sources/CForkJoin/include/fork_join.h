// A two-lane fork-join: one persistent helper thread per caller, woken in about a microsecond.
//
// Stitch splits one matrix product (or one ensemble's members) over two cores by running half of the work on a
// helper thread while the calling thread does the other half. Dispatch's thread pool costs tens of
// microseconds per hand-off, as long as a whole 256x256x256 product takes here; this helper spins between
// hand-offs (so the next one starts at once) and parks on a condition variable after about 100 microseconds
// idle (so it costs nothing during evaluation, environment steps or between runs).
#ifndef STITCH_FORK_JOIN_H
#define STITCH_FORK_JOIN_H

#ifdef __cplusplus
extern "C" {
#endif

/// Work for one lane: `lane` is 0 on the calling thread and 1 on the helper.
typedef void (*stitch_lane_fn)(void *context, int lane);

typedef struct stitch_pair stitch_pair;

/// Starts a helper thread; NULL when the thread cannot be created (callers then run both lanes themselves).
stitch_pair *stitch_pair_create(void);

/// Runs fn(context, 0) on the caller and fn(context, 1) on the helper (or on the caller, when it finishes first
/// and the helper has not started); returns when both have finished.
/// Not reentrant: one caller thread per pair.
void stitch_pair_run(stitch_pair *pair, stitch_lane_fn fn, void *context);

/// Stops the helper (waits for it to exit) and frees the pair.
void stitch_pair_destroy(stitch_pair *pair);

#ifdef __cplusplus
}
#endif
#endif
