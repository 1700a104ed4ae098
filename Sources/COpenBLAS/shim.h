// OpenBLAS through its CBLAS interface (Debian: libopenblas-dev; pkg-config "openblas").
#ifndef STITCH_COPENBLAS_SHIM_H
#define STITCH_COPENBLAS_SHIM_H
#include <cblas.h>
// Declared by OpenBLAS's cblas.h; repeated here only as documentation of what Stitch uses:
//   void openblas_set_num_threads(int);  int openblas_get_num_threads(void);
//   char* openblas_get_corename(void);    char* openblas_get_config(void);
#endif
