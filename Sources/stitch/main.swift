import StitchCLI
import Foundation

import StitchTensor

// OpenBLAS picks its kernel when it loads; on CPUs newer than its table it falls back to a generic SSE3 kernel
// three times slower than the AVX-512 one. Restart once with the right OPENBLAS_CORETYPE (see BLAS.swift).
BLAS.reexecWithPreferredCore()
// Where the environment pins OpenBLAS to a narrower kernel than the CPU runs, say so before long work.
// Not for help text, listings or `dataset info`/`convert`, which do no matrix products worth the line.
let arguments = Array(CommandLine.arguments.dropFirst())
let heavy = ["train", "bench", "synth", "finetune", "sweep", "dynamics"].contains(arguments.first ?? "") || arguments.prefix(2) == ["dataset", "make"]
let quiet = arguments.contains { ["-h", "--help", "help", "--list-config"].contains($0) }
if heavy, !quiet, let note = BLAS.currentCoreTypeWarning {
  FileHandle.standardError.write(Data((note + "\n").utf8))
}
// A backend the sgemm plan names but cannot use (absent, or failed its self-check at load): one line each.
if heavy, !quiet {
  for note in ([BLAS.gemmPlanNote].compactMap { $0 } + BLAS.backendNotes) { FileHandle.standardError.write(Data((note + "\n").utf8)) }
}
StitchCommand.main()
