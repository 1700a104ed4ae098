// OpenBLAS through its CBLAS interface (Debian: libopenblas-dev; pkg-config "openblas").
#ifndef STITCH_COPENBLAS_SHIM_H
#define STITCH_COPENBLAS_SHIM_H
#include <cblas.h>
// Declared by OpenBLAS's cblas.h; repeated here only as documentation of what Stitch uses:
//   void openblas_set_num_threads(int);  int openblas_get_num_threads(void);
//   char* openblas_get_corename(void);    char* openblas_get_config(void);

// The one CPU instruction Swift cannot spell: a software prefetch (read, keep in all cache levels). Minibatch
// gathers (StitchData's TransitionRows) request every row of a batch before copying any, and a prefetch, unlike a
// load, does not hold up retirement while it waits for DRAM, so many more rows can be in flight.
static inline void stitch_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
#endif
