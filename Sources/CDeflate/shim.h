// libdeflate (Debian: libdeflate-dev), a fast DEFLATE/zlib decoder. Stitch uses it to inflate the gzip-filtered
// chunks of HDF5 datasets on all cores (HDF5 itself is not thread-safe in Debian's build and inflates with zlib on
// one core; see StitchData's ChunkedRead.swift).
#ifndef STITCH_CDEFLATE_SHIM_H
#define STITCH_CDEFLATE_SHIM_H
#include <libdeflate.h>
#endif
