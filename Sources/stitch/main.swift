import StitchCLI
import Foundation
import StitchTensor

// OpenBLAS picks its kernel when it loads; on CPUs newer than its table it falls back to a generic SSE3 kernel
// three times slower than the AVX-512 one. Restart once with the right OPENBLAS_CORETYPE (see BLAS.swift).
BLAS.reexecWithPreferredCore()
// Where the environment pins OpenBLAS to a narrower kernel than the CPU runs, say so before long work.
if let command = CommandLine.arguments.dropFirst().first, ["train", "bench", "synth", "dataset"].contains(command),
   let note = BLAS.currentCoreTypeWarning {
  FileHandle.standardError.write(Data((note + "\n").utf8))
}
StitchCommand.main()
