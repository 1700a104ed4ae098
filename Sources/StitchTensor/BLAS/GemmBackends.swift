import CGemm
import Foundation

/// The library one matrix product runs on.
///
/// `openblas` is `cblas_sgemm` (or, where `BLAS.usesHaswellDriver`, Stitch's driver over OpenBLAS's Haswell
/// kernel); the others are loaded at run time where present (Sources/CGemm/include/stitch_backends.h) and must
/// pass a self-check first. A backend that declines a product (libxsmm: a transposed B, or no JIT kernel for the
/// shape) leaves it to OpenBLAS.
public enum GemmBackend: String, CaseIterable, Sendable, Codable {
  case openblas, onednn, libxsmm, blis

  var code: Int32 {
    switch self {
    case .openblas: return 0
    case .onednn: return Int32(STITCH_BACKEND_ONEDNN)
    case .libxsmm: return Int32(STITCH_BACKEND_LIBXSMM)
    case .blis: return Int32(STITCH_BACKEND_BLIS)
    }
  }

  /// Whether the library is present and passed its self-check (loaded on the first ask, once per process).
  public var isAvailable: Bool { self == .openblas || stitch_backend_available(code, nil, 0) != 0 }

  /// Why the library is not used ("" when it is).
  public var note: String {
    guard self != .openblas else { return "" }
    var buffer = [CChar](repeating: 0, count: 320)
    _ = stitch_backend_available(code, &buffer, 320)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The library's version ("" when unknown).
  public var version: String {
    self == .openblas ? BLAS.configuration.split(separator: " ").prefix(2).joined(separator: " ")
      : String(cString: stitch_backend_version(code))
  }

  /// Whether this backend runs a product with these transposes and beta itself (else OpenBLAS does).
  public func accepts(transposeA: Bool, transposeB: Bool, beta: Float) -> Bool {
    self == .openblas || stitch_backend_accepts(code, transposeA ? 1 : 0, transposeB ? 1 : 0, beta) != 0
  }
}

/// Which backend each product shape runs on: one rule for the whole process, settled before any work (the
/// choice changes the last bits of results, so a run's bits hold for one plan on one machine).
public enum GemmPlan: Equatable, Sendable {
  /// Every product on OpenBLAS (Stitch before issue 25).
  case openblas
  /// Every product that `backend` accepts on it, the rest on OpenBLAS (tests and benchmarks).
  case only(GemmBackend)
  /// A version of the measured rule (`GemmPlan.rule`), each backend where it is available. A rule that changes gets
  /// a new version, and the old one stays, so that runs recorded under it resume with their bits.
  case measuredRule(Int)

  /// The measured rule's current version. 1 (2026-12-08 01:03–01:45): TN above 2²⁶ on OpenBLAS; 2: on oneDNN.
  public static let currentRule = 2
  /// The current measured rule, what `STITCH_SGEMM=auto` and the Zen 5 default give.
  public static var measured: GemmPlan { .measuredRule(currentRule) }

  /// The plan from `STITCH_SGEMM` (`auto`, `openblas`, `onednn`, `libxsmm`, `blis`; `haswell`, which only turns on
  /// Stitch's driver over OpenBLAS's Haswell kernel, `BLAS.usesHaswellDriver`, means OpenBLAS), else the default for this
  /// CPU: `measured` where the rule was measured (AMD family 26, Zen 5, with AVX-512: benchmarks/RESULTS.md,
  /// "sgemm backends"), `openblas` elsewhere until a measurement there says otherwise. Returns an error line
  /// for an unknown value.
  public static func fromEnvironment(_ environment: [String: String], cpu: BLAS.CPUDescription?) -> (GemmPlan, String?) {
    if let value = environment["STITCH_SGEMM"]?.lowercased(), !value.isEmpty {
      if value == "auto" { return (.measured, nil) }
      if value == "openblas" || value == "haswell" { return (.openblas, nil) }
      if let backend = GemmBackend(rawValue: value) { return (.only(backend), nil) }
      return (defaultPlan(cpu: cpu), "note: STITCH_SGEMM=\(value) names no sgemm backend (auto, openblas, haswell, onednn, libxsmm, blis); using the default, \(defaultPlan(cpu: cpu).description)")
    }
    return (defaultPlan(cpu: cpu), nil)
  }

  static func defaultPlan(cpu: BLAS.CPUDescription?) -> GemmPlan {
    guard let cpu, cpu.vendor == "AuthenticAMD", cpu.family == 26, cpu.flags.contains("avx512f") else { return .openblas }
    return .measured
  }

  /// The backend the measured rule gives a row-major M×N×K product, before availability (a pure function).
  ///
  /// From `stitch bench backends` and `stitch bench train` on AMD EPYC Zen 5, one core, against OpenBLAS 0.3.21's
  /// SkylakeX kernel (benchmarks/RESULTS.md, "sgemm backends"): libxsmm's JIT kernels on NN products up to 2²⁸
  /// multiply-adds and TN ones up to 2²⁶ (256×23×256 TN 100 → 190 GFLOP/s, 256×256×6 NN 193 → 220, 256³ NN 233 →
  /// 266; TN with k = 2560 and 256-wide outputs drops to 131); oneDNN on A·Bᵀ (NT) products with a narrow output or
  /// inner dimension (≤ 64: 256×256×23 193 → 219, 256×12×256 88 → 152); OpenBLAS on square NT products (oneDNN's
  /// 5% bare gain there vanished inside whole updates), single-column NT, TT and the largest NN products; oneDNN
  /// also on TN products above 2²⁶ (CQL's weight gradients over its 2560 sampled-action rows: 218 → 245 GFLOP/s,
  /// CQL's update 1.03–1.06x).
  public static func rule(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, version: Int = currentRule) -> GemmBackend {
    if transposeA && transposeB { return .openblas }
    let size = m * n * k
    if transposeB { return n > 1 && (n <= 64 || k <= 64) ? .onednn : .openblas }
    if transposeA { return size <= 1 << 26 ? .libxsmm : version >= 2 ? .onednn : .openblas }
    return size <= 1 << 28 ? .libxsmm : .openblas
  }

  /// The backend this plan runs the product on, given which backends are available.
  func backend(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, beta: Float,
               available: (GemmBackend) -> Bool) -> GemmBackend {
    let wanted: GemmBackend
    switch self {
    case .openblas: return .openblas
    case .only(let backend): wanted = backend
    case .measuredRule(let version): wanted = Self.rule(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, version: version)
    }
    guard wanted != .openblas, available(wanted), wanted.accepts(transposeA: transposeA, transposeB: transposeB, beta: beta)
    else { return .openblas }
    return wanted
  }

  /// The plan's name, as `STITCH_SGEMM` takes it and a run's options record it.
  public var id: String {
    switch self {
    case .openblas: return "openblas"
    case .only(let backend): return backend.rawValue
    case .measuredRule(let version): return version == 1 ? "auto" : "auto-v\(version)"
    }
  }

  /// The plan named `id` (`auto`, `openblas`, `onednn`, `libxsmm`, `blis`), or nil.
  public init?(id: String) {
    switch id {
    case "auto": self = .measuredRule(1)  // recorded before rules had versions
    case _ where id.hasPrefix("auto-v"):
      guard let version = Int(id.dropFirst(6)), (1...Self.currentRule).contains(version) else { return nil }
      self = .measuredRule(version)
    case "openblas": self = .openblas
    default:
      guard let backend = GemmBackend(rawValue: id) else { return nil }
      self = .only(backend)
    }
  }

  /// One line for `stitch system` and benchmark headers.
  public var description: String {
    switch self {
    case .openblas: return "openblas"
    case .only(let backend): return "\(backend.rawValue) (where it accepts the product; the rest openblas)"
    case .measuredRule(let version) where version == 1:
      return "measured rule v1: NN ≤ 2^28 and TN ≤ 2^26 → libxsmm, NT with n or k ≤ 64 → onednn, the rest openblas"
    case .measuredRule(let version): return "measured rule v\(version): NN ≤ 2^28 and TN ≤ 2^26 → libxsmm, larger TN and NT with n or k ≤ 64 → onednn, the rest openblas"
    }
  }
}

extension BLAS {
  /// The process's plan (`GemmPlan.fromEnvironment`), settled before any work and not changed while products run.
  public nonisolated(unsafe) static var gemmPlan: GemmPlan = GemmPlan.fromEnvironment(
    ProcessInfo.processInfo.environment, cpu: cpuDescription()).0

  /// The note `GemmPlan.fromEnvironment` gave for this process's environment, if any.
  public static var gemmPlanNote: String? {
    GemmPlan.fromEnvironment(ProcessInfo.processInfo.environment, cpu: cpuDescription()).1
  }

  /// Availability of every backend by its code (openblas 0, onednn 1, libxsmm 2, blis 3), looked up once (the
  /// loaders run their self-checks on first use); an array, since every product reads it.
  static let backendAvailable: [Bool] = GemmBackend.allCases.sorted { $0.code < $1.code }.map(\.isAvailable)

  /// The backend `plan` (else this thread's, `ProductLanes.plan`, else the process's) gives a product.
  @inline(__always)
  public static func backend(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, beta: Float,
                             plan: GemmPlan? = nil) -> GemmBackend {
    let plan = plan ?? ProductLanes.plan ?? gemmPlan
    if plan == .openblas { return .openblas }
    return plan.backend(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, beta: beta) {
      backendAvailable[Int($0.code)]
    }
  }

  /// One line per backend that the plan names but cannot use (absent, or failed its self-check), for start-up notes.
  public static var backendNotes: [String] {
    let named: [GemmBackend]
    switch gemmPlan {
    case .openblas: named = []
    case .only(let backend): named = [backend]
    case .measuredRule: named = [.onednn, .libxsmm]
    }
    return named.filter { !backendAvailable[Int($0.code)] }.map { "note: sgemm backend \($0.rawValue) not used: \($0.note); its products run on OpenBLAS" }
  }
}
