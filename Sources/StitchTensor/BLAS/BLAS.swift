import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The BLAS library Stitch's matrix products run on (OpenBLAS through CBLAS).
///
/// Threading model: Stitch sets OpenBLAS to one thread at start-up (`BLAS.threads = 1`) because products of
/// MLP size (256×256 and smaller) lose speed on a second OpenBLAS thread on these machines (../shared/STACK.md);
/// the second core is used for independent work instead (other networks, ensemble members, seeds, evaluation).
public enum BLAS {
  /// The number of threads OpenBLAS uses for one product.
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(max(1, newValue))) }
  }

  /// The CPU kernel OpenBLAS picked at load time (e.g. "Cooperlake", "SkylakeX").
  public static var coreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }

  /// OpenBLAS's build configuration string (version, threading, core).
  public static var configuration: String {
    guard let text = openblas_get_config() else { return "unknown" }
    return String(cString: text)
  }

  /// The kernel OpenBLAS should use on this CPU when its own detection fell back to a generic one, or nil.
  ///
  /// OpenBLAS built with DYNAMIC_ARCH (Debian's 0.3.21) picks its kernel from the CPUID family/model at load
  /// time. CPUs newer than the build (e.g. Emerald Rapids, family 6 model 207, which these machines report as
  /// "Intel(R) Xeon(R) Processor") are not in its table, and it falls back to "Prescott" (SSE3): measured here,
  /// 26 GFLOP/s on TD3+BC's products instead of 80 with "SkylakeX" (benchmarks/RESULTS.md). The instruction
  /// set, not the model number, decides what will run correctly, so this reads the CPU flags (Linux
  /// /proc/cpuinfo): AVX-512 F/BW/DQ/VL → "SkylakeX", AVX2 + FMA → "Haswell". Returns nil when OpenBLAS already
  /// chose a specific kernel, when `OPENBLAS_CORETYPE` is set (the user's choice wins), or when the flags are
  /// unknown.
  public static func preferredCoreType(current: String, environment: [String: String], cpuFlags: Set<String>?) -> String? {
    guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
    let generic: Set<String> = ["Prescott", "Core2", "Katmai", "Coppermine", "Northwood", "Banias", "Atom", "unknown"]
    guard generic.contains(current), let flags = cpuFlags else { return nil }
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
    if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
    return nil
  }

  /// The CPU's feature flags from /proc/cpuinfo (Linux), or nil where that file is absent or unreadable.
  public static func cpuFlags() -> Set<String>? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
          let colon = line.firstIndex(of: ":") else { return nil }
    return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
  }

  /// Restarts the current executable with `OPENBLAS_CORETYPE` set when `preferredCoreType` names a better
  /// kernel than the one OpenBLAS picked. The kernel is chosen once, when the library loads, so a process
  /// cannot switch it later; the `stitch` executable calls this first thing in `main`, before any work.
  /// `STITCH_BLAS_REEXEC=0` turns it off. Returns only when no restart is needed or `execv` failed.
  public static func reexecWithPreferredCore() {
    let env = ProcessInfo.processInfo.environment
    guard env["STITCH_BLAS_REEXEC"] != "0", let core = preferredCoreType(current: coreName, environment: env, cpuFlags: cpuFlags())
    else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    setenv("STITCH_BLAS_REEXEC", "0", 1)  // never loop, whatever OpenBLAS picks the second time
    let args = CommandLine.arguments
    var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
    cArgs.append(nil)
    execv("/proc/self/exe", &cArgs)
    // execv returned: it failed; carry on with the kernel we have.
    for p in cArgs { free(p) }
    unsetenv("OPENBLAS_CORETYPE")
  }
}
