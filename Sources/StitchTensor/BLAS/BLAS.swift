import CGemm
import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The BLAS library Stitch's matrix products run on (OpenBLAS through CBLAS).
///
/// Threading model: Stitch sets OpenBLAS to one thread at start-up (`BLAS.threads = 1`) because products of
/// MLP size (256×256 and smaller) lose speed on a second OpenBLAS thread on these machines (docs/stack.md);
/// the second core is used for independent work instead (other networks, ensemble members, seeds, evaluation).
public enum BLAS {
  /// The number of threads OpenBLAS uses for one product.
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(max(1, newValue))) }
  }

  /// Whether products with at least 64 output rows and columns (and k ≥ 16) run on Stitch's own blocking
  /// driver over OpenBLAS's Haswell (AVX2) micro-kernel (`CGemm`, see its header) instead of `cblas_sgemm`.
  ///
  /// On by default where that was measured faster: AMD family 25 (Zen 3/4) CPUs on which OpenBLAS picked an
  /// AVX-512 kernel (Cooperlake/SkylakeX). Zen 4 splits 512-bit FMAs into two 256-bit halves, and there the
  /// Haswell kernel gives 3–8% more on square and wide products (medians, one core: 256×256×256 NN 102.1 →
  /// 105.3 GFLOP/s; 1024×1024×256 96.8 → 101.8; 256×1024×1024 NT 86.6 → 92.6) and 30% on the SynthER denoiser's
  /// input layer (256×1024×42: 75.7 → 98.5), but a third of OpenBLAS's AVX-512 small-matrix speed on outputs a
  /// few rows or columns wide, which stay with `cblas_sgemm` (benchmarks/RESULTS.md, "sgemm kernels").
  /// `STITCH_SGEMM=openblas` turns it off, `STITCH_SGEMM=haswell` turns it on on any AVX2 + FMA CPU. The driver
  /// is single-threaded: benchmarks of OpenBLAS's own threads (`stitch bench --split blas`) turn it off. Settled before any work and not changed while products run:
  /// the choice changes the last bits of results.
  public nonisolated(unsafe) static var usesHaswellDriver: Bool = prefersHaswellDriver(
    cpu: cpuDescription(), core: coreName, environment: ProcessInfo.processInfo.environment)
    && stitch_gemm_available() != 0

  /// Whether an M×N×K product goes to the Haswell driver (decided for the whole product, before any lane split,
  /// so both halves of a split product take the same path).
  @inline(__always)
  static func viaDriver(m: Int, n: Int, k: Int) -> Bool { usesHaswellDriver && m >= 64 && n >= 64 && k >= 16 }

  /// The decision behind `usesHaswellDriver`, from the CPU's vendor, family and flags, OpenBLAS's core and the
  /// environment (a pure function, tested).
  public static func prefersHaswellDriver(cpu: CPUDescription?, core: String, environment: [String: String]) -> Bool {
    guard let cpu, cpu.flags.isSuperset(of: ["avx2", "fma"]) else { return false }
    switch environment["STITCH_SGEMM"]?.lowercased() {
    case "openblas": return false
    case "haswell": return true
    default: return cpu.vendor == "AuthenticAMD" && cpu.family == 25 && ["Cooperlake", "SkylakeX"].contains(core)
    }
  }

  /// The CPU's vendor, family and feature flags as /proc/cpuinfo gives them for its first processor.
  public struct CPUDescription: Sendable, Equatable {
    public var vendor: String
    public var family: Int
    public var flags: Set<String>
    public init(vendor: String, family: Int, flags: Set<String>) {
      self.vendor = vendor; self.family = family; self.flags = flags
    }
  }

  /// The CPU description from /proc/cpuinfo (Linux), or nil where that file is absent or lacks the fields.
  public static func cpuDescription() -> CPUDescription? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    return parseCPUInfo(text)
  }

  /// Vendor, family and flags of the first processor listed in /proc/cpuinfo's `text`.
  public static func parseCPUInfo(_ text: String) -> CPUDescription? {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.trimmingCharacters(in: .whitespaces).isEmpty, !fields.isEmpty { break }  // end of the first processor
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      fields[key] = fields[key] ?? line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    guard let vendor = fields["vendor_id"], let family = fields["cpu family"].flatMap({ Int($0) }),
          let flags = fields["flags"] else { return nil }
    return CPUDescription(vendor: vendor, family: family, flags: Set(flags.split(separator: " ").map(String.init)))
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

  /// OpenBLAS kernels that use 512-bit vectors (the names `openblas_get_corename` returns).
  static let avx512Cores: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]

  /// A one-line warning when `OPENBLAS_CORETYPE` in the environment holds OpenBLAS to a kernel narrower than the
  /// CPU runs (an AVX2 or older kernel on a CPU with AVX-512 F/BW/DQ/VL), else nil. Stitch keeps the
  /// environment's choice (a user or a machine image may want one kernel everywhere, for identical bits across
  /// CPUs) but says what it costs: on the AMD EPYC Zen 5 (family 26) machines that set `OPENBLAS_CORETYPE=Haswell`,
  /// OpenBLAS's 256×256×256 sgemm runs at 131 GFLOP/s with the Haswell kernel and 241 with SkylakeX, and TD3+BC's
  /// update at 273 against 470 updates/s on one core (benchmarks/RESULTS.md, "Zen 5"). A pure function, tested.
  public static func coreTypeWarning(current: String, environment: [String: String], cpuFlags: Set<String>?) -> String? {
    guard let forced = environment["OPENBLAS_CORETYPE"], let flags = cpuFlags,
          flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]), !avx512Cores.contains(current)
    else { return nil }
    return "note: OPENBLAS_CORETYPE=\(forced) in the environment holds OpenBLAS to its \(current) kernel on a CPU "
      + "with AVX-512; matrix products can run up to 1.8x faster with OPENBLAS_CORETYPE=SkylakeX (or unset it and "
      + "Stitch picks the kernel)"
  }

  /// `coreTypeWarning` for this process.
  public static var currentCoreTypeWarning: String? {
    coreTypeWarning(current: coreName, environment: ProcessInfo.processInfo.environment, cpuFlags: cpuFlags())
  }

  /// The CPU's feature flags from /proc/cpuinfo (Linux), or nil where that file is absent or unreadable.
  public static func cpuFlags() -> Set<String>? { cpuDescription()?.flags }

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
