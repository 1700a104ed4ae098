// See include/fork_join.h. Protocol: the caller stores the task, then increments `posted` (seq_cst); the helper
// spins on `posted`, claims lane 1 by moving `claimed` from s - 1 to s, runs it, and stores s into `finished`.
// A caller that finishes lane 0 first tries the same claim: when the helper has not started (another process
// holds its core, or it is waking from its park), the caller runs lane 1 itself instead of waiting, so a busy
// machine degrades to one-thread speed rather than to the scheduler's time slice per product. Which thread runs
// a lane does not change its result.
// A helper that has spun for SPIN_LIMIT rounds announces `sleeping` and waits on the condition variable; a
// caller that sees `sleeping` after posting signals it under the mutex. Both flags are sequentially consistent, so either the caller sees
// `sleeping` (and signals) or the helper sees the new `posted` before it waits: no lost wake-up.
#include "fork_join.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/// About 100 microseconds of pause instructions (a pause is 30-140 cycles depending on the CPU).
#define SPIN_LIMIT 20000

struct stitch_pair {
  pthread_t thread;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  stitch_lane_fn fn;
  void *context;
  atomic_ulong posted;
  atomic_ulong finished;
  atomic_ulong claimed;
  atomic_int sleeping;
  atomic_int quit;
};

static void *helper_main(void *arg) {
  stitch_pair *p = arg;
  unsigned long seen = 0;
  for (;;) {
    unsigned long s;
    int spins = 0;
    while ((s = atomic_load(&p->posted)) == seen && !atomic_load(&p->quit)) {
      if (++spins < SPIN_LIMIT) { CPU_RELAX(); continue; }
      pthread_mutex_lock(&p->mutex);
      atomic_store(&p->sleeping, 1);
      while ((s = atomic_load(&p->posted)) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->cond, &p->mutex);
      atomic_store(&p->sleeping, 0);
      pthread_mutex_unlock(&p->mutex);
      spins = 0;
    }
    if (atomic_load(&p->quit)) return NULL;
    seen = s;
    unsigned long expected = s - 1;
    if (atomic_compare_exchange_strong(&p->claimed, &expected, s)) {
      p->fn(p->context, 1);
      atomic_store(&p->finished, s);
    }
  }
}

stitch_pair *stitch_pair_create(void) {
  stitch_pair *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pthread_mutex_init(&p->mutex, NULL);
  pthread_cond_init(&p->cond, NULL);
  atomic_init(&p->posted, 0);
  atomic_init(&p->finished, 0);
  atomic_init(&p->claimed, 0);
  atomic_init(&p->sleeping, 0);
  atomic_init(&p->quit, 0);
  if (pthread_create(&p->thread, NULL, helper_main, p) != 0) {
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->cond);
    free(p);
    return NULL;
  }
  return p;
}

static void wake(stitch_pair *p) {
  if (atomic_load(&p->sleeping)) {
    pthread_mutex_lock(&p->mutex);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mutex);
  }
}

void stitch_pair_run(stitch_pair *p, stitch_lane_fn fn, void *context) {
  p->fn = fn;
  p->context = context;
  unsigned long s = atomic_fetch_add(&p->posted, 1) + 1;
  wake(p);
  fn(context, 0);
  unsigned long expected = s - 1;
  if (atomic_compare_exchange_strong(&p->claimed, &expected, s)) {
    fn(context, 1);  // the helper had not started: do its half here
    return;
  }
  // The helper is running lane 1: wait, yielding the core after a while in case it shares ours.
  for (int spins = 0; atomic_load(&p->finished) != s; spins++) {
    if (spins < 4096) CPU_RELAX();
    else sched_yield();
  }
}

void stitch_pair_destroy(stitch_pair *p) {
  if (!p) return;
  atomic_store(&p->quit, 1);
  pthread_mutex_lock(&p->mutex);
  pthread_cond_signal(&p->cond);
  pthread_mutex_unlock(&p->mutex);
  pthread_join(p->thread, NULL);
  pthread_mutex_destroy(&p->mutex);
  pthread_cond_destroy(&p->cond);
  free(p);
}
