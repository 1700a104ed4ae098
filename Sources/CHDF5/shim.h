// HDF5 1.10 serial (Debian: libhdf5-dev; pkg-config "hdf5").
//
// Many HDF5 constants are C macros over globals that exist only after H5open() (H5T_NATIVE_FLOAT,
// H5P_DEFAULT, H5F_ACC_RDONLY, ...). Swift cannot import those macros, so each one Stitch needs is
// wrapped here in a static inline function (see docs/stack.md, "HDF5 from Swift").
#ifndef STITCH_CHDF5_SHIM_H
#define STITCH_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t stitch_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t stitch_H5S_ALL(void) { return H5S_ALL; }
static inline unsigned stitch_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned stitch_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned stitch_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned stitch_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline hid_t stitch_H5P_DATASET_CREATE(void) { H5open(); return H5P_DATASET_CREATE; }
static inline hid_t stitch_H5P_FILE_ACCESS(void) { H5open(); return H5P_FILE_ACCESS; }
static inline hid_t stitch_H5P_GROUP_CREATE(void) { H5open(); return H5P_GROUP_CREATE; }
static inline hsize_t stitch_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }

static inline hid_t stitch_H5T_NATIVE_FLOAT(void) { H5open(); return H5T_NATIVE_FLOAT; }
static inline hid_t stitch_H5T_NATIVE_DOUBLE(void) { H5open(); return H5T_NATIVE_DOUBLE; }
static inline hid_t stitch_H5T_NATIVE_INT8(void) { H5open(); return H5T_NATIVE_INT8; }
static inline hid_t stitch_H5T_NATIVE_UINT8(void) { H5open(); return H5T_NATIVE_UINT8; }
static inline hid_t stitch_H5T_NATIVE_INT32(void) { H5open(); return H5T_NATIVE_INT32; }
static inline hid_t stitch_H5T_NATIVE_INT64(void) { H5open(); return H5T_NATIVE_INT64; }
static inline hid_t stitch_H5T_NATIVE_UINT64(void) { H5open(); return H5T_NATIVE_UINT64; }
static inline hid_t stitch_H5T_NATIVE_HBOOL(void) { H5open(); return H5T_NATIVE_HBOOL; }
static inline hid_t stitch_H5T_C_S1(void) { H5open(); return H5T_C_S1; }
static inline hid_t stitch_H5T_STD_I8LE(void) { H5open(); return H5T_STD_I8LE; }
static inline hid_t stitch_H5T_IEEE_F32LE(void) { H5open(); return H5T_IEEE_F32LE; }
static inline hid_t stitch_H5T_IEEE_F64LE(void) { H5open(); return H5T_IEEE_F64LE; }

/// Turns off HDF5's automatic error printing to stderr; Stitch reports errors itself.
static inline void stitch_H5_silence_errors(void) { H5open(); H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
