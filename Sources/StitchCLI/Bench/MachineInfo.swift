import Foundation

import Stitch

/// A description of the machine a benchmark ran on, printed beside every figure (benchmarks/RESULTS.md).
struct MachineInfo {
  var fields: [(String, String)]

  static func current() -> MachineInfo {
    let env = ProcessInfo.processInfo.environment
    var fields: [(String, String)] = [
      ("stitch", StitchVersion.string),
      ("cpu", cpuModel()),
      ("cores", String(ProcessInfo.processInfo.activeProcessorCount)),
      ("openblas_core", BLAS.coreName),
      ("openblas_threads", String(BLAS.threads)),
      ("sgemm_driver", BLAS.usesHaswellDriver ? "stitch+haswell-kernel (≥64×64 outputs)" : "cblas"),
      ("sgemm_plan", BLAS.gemmPlan.description),
      ("sgemm_backends", GemmBackend.allCases.map { b in b.isAvailable ? "\(b.rawValue) \(b.version)" : "\(b.rawValue) not used (\(b.note))" }.joined(separator: "; ")),
      ("product_lanes", String(ProductLanes.current)),
      ("fma_peak_gflops", BLAS.measuredFMAPeakGFLOPS.map { String(format: "%.1f", $0) } ?? "unknown"),
      ("openblas_config", BLAS.configuration.trimmingCharacters(in: .whitespaces)),
      ("hdf5", HDF5Library.version),
      ("mujoco", MuJoCoLibrary.version),
    ]
    for key in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "STITCH_BLAS_REEXEC", "STITCH_SGEMM", "STITCH_LIBXSMM"] {
      if let value = env[key] { fields.append((key, value)) }
    }
    if let note = BLAS.currentCoreTypeWarning { fields.append(("blas_note", note)) }
    return MachineInfo(fields: fields)
  }

  var jsonFields: [(String, JSONText)] { fields.map { ($0.0, .string($0.1)) } }

  private static func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
      if let colon = line.firstIndex(of: ":") {
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
    }
    return "unknown"
  }
}
