import StitchCLI
import StitchTensor

// OpenBLAS picks its kernel when it loads; on CPUs newer than its table it falls back to a generic SSE3 kernel
// three times slower than the AVX-512 one. Restart once with the right OPENBLAS_CORETYPE (see BLAS.swift).
BLAS.reexecWithPreferredCore()
StitchCommand.main()
