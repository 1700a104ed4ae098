import CGemm
import COpenBLAS
import Testing
@testable import StitchTensor

import StitchTestSupport

/// The sgemm backends of issue 25 (oneDNN, libxsmm, BLIS, loaded at run time) and the plan that picks one per
/// product: what each computes against a double-precision oracle, two lanes against one under each, the rule,
/// and the self-check that keeps a wrong library out.
@Suite struct GemmBackendTests {
  static let others: [GemmBackend] = [.onednn, .libxsmm, .blis]

  @Test func theMeasuredRulePicksByTransposeAndSize() {
    // A·Bᵀ: oneDNN where the output or the inner dimension is narrow (input layers, small heads); square ones gain
    // a few percent bare and nothing inside an update, so they stay with OpenBLAS.
    #expect(GemmPlan.rule(m: 256, n: 256, k: 256, transposeA: false, transposeB: true) == .openblas)
    #expect(GemmPlan.rule(m: 256, n: 256, k: 23, transposeA: false, transposeB: true) == .onednn)
    #expect(GemmPlan.rule(m: 256, n: 6, k: 256, transposeA: false, transposeB: true) == .onednn)
    #expect(GemmPlan.rule(m: 2560, n: 256, k: 256, transposeA: false, transposeB: false) == .libxsmm)
    #expect(GemmPlan.rule(m: 256, n: 256, k: 2560, transposeA: true, transposeB: false) == .onednn)
    #expect(GemmPlan.rule(m: 256, n: 23, k: 2560, transposeA: true, transposeB: false) == .libxsmm)
    #expect(GemmPlan.rule(m: 256, n: 1, k: 256, transposeA: false, transposeB: true) == .openblas)  // one column
    #expect(GemmPlan.rule(m: 256, n: 23, k: 256, transposeA: true, transposeB: false) == .libxsmm)
    #expect(GemmPlan.rule(m: 256, n: 256, k: 6, transposeA: false, transposeB: false) == .libxsmm)
    #expect(GemmPlan.rule(m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false) == .openblas)
    #expect(GemmPlan.rule(m: 64, n: 64, k: 64, transposeA: true, transposeB: true) == .openblas)
  }

  @Test func aBackendThatDeclinesOrIsAbsentLeavesTheProductToOpenBLAS() {
    let none: (GemmBackend) -> Bool = { _ in false }
    #expect(GemmPlan.measured.backend(m: 256, n: 256, k: 256, transposeA: false, transposeB: true, beta: 0, available: none) == .openblas)
    let all: (GemmBackend) -> Bool = { _ in true }
    // libxsmm has no transposed first operand in its column-major view (a transposed B here), nor beta 0.5.
    #expect(GemmPlan.only(.libxsmm).backend(m: 256, n: 256, k: 256, transposeA: false, transposeB: true, beta: 0, available: all) == .openblas)
    #expect(GemmPlan.only(.libxsmm).backend(m: 256, n: 256, k: 256, transposeA: true, transposeB: false, beta: 0.5, available: all) == .openblas)
    #expect(GemmPlan.only(.libxsmm).backend(m: 256, n: 256, k: 256, transposeA: true, transposeB: false, beta: 1, available: all) == .libxsmm)
    #expect(GemmPlan.openblas.backend(m: 256, n: 256, k: 256, transposeA: false, transposeB: true, beta: 0, available: all) == .openblas)
  }

  @Test func theEnvironmentNamesThePlanAndAnUnknownNameIsSaid() {
    let zen5 = BLAS.CPUDescription(vendor: "AuthenticAMD", family: 26, flags: ["avx2", "fma", "avx512f"])
    let intel = BLAS.CPUDescription(vendor: "GenuineIntel", family: 6, flags: ["avx2", "fma", "avx512f"])
    #expect(GemmPlan.fromEnvironment([:], cpu: zen5).0 == .measured)
    #expect(GemmPlan.fromEnvironment([:], cpu: intel).0 == .openblas)  // not measured there
    #expect(GemmPlan.fromEnvironment([:], cpu: nil).0 == .openblas)
    #expect(GemmPlan.fromEnvironment(["STITCH_SGEMM": "auto"], cpu: intel).0 == .measured)
    #expect(GemmPlan.fromEnvironment(["STITCH_SGEMM": "openblas"], cpu: zen5).0 == .openblas)
    #expect(GemmPlan.fromEnvironment(["STITCH_SGEMM": "haswell"], cpu: zen5).0 == .openblas)
    #expect(GemmPlan.fromEnvironment(["STITCH_SGEMM": "oneDNN"], cpu: intel).0 == .only(.onednn))
    let (plan, note) = GemmPlan.fromEnvironment(["STITCH_SGEMM": "mkl"], cpu: intel)
    #expect(plan == .openblas)
    #expect(note?.contains("STITCH_SGEMM=mkl names no sgemm backend") == true)
    #expect(GemmPlan.fromEnvironment([:], cpu: zen5).1 == nil)
    for p in [GemmPlan.openblas, .measured, .measuredRule(1), .only(.onednn), .only(.libxsmm), .only(.blis)] { #expect(GemmPlan(id: p.id) == p) }
    // A run recorded "auto" before rules had versions resumes under version 1; an unknown version is refused.
    #expect(GemmPlan(id: "auto") == .measuredRule(1) && GemmPlan.measured.id == "auto-v\(GemmPlan.currentRule)")
    #expect(GemmPlan(id: "auto-v99") == nil)
    #expect(GemmPlan.rule(m: 256, n: 256, k: 2560, transposeA: true, transposeB: false, version: 1) == .openblas)
    #expect(GemmPlan(id: "mkl") == nil)
  }

  /// Every backend present, every transpose pair, beta 0 and 1, on the shapes of MLP training and odd ones, within
  /// float rounding of the double-precision oracle.
  @Test(arguments: [(256, 256, 256), (256, 23, 256), (256, 256, 17), (256, 6, 256), (256, 1, 256), (6, 256, 256),
                    (300, 40, 129), (1024, 64, 64), (7, 5, 3)])
  func everyBackendMatchesTheOracle(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    TestSupport.useOneBLASThread()
    for backend in Self.others where backend.isAvailable {
      for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        for beta: Float in [0, 1] {
          let a = ProductLanesTests.values(m * k, seed: m + 1), b = ProductLanesTests.values(k * n, seed: n + 2)
          let c0 = ProductLanesTests.values(m * n, seed: 5)
          var c = c0
          a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            ProductLanes.sgemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, batch: 1,
                               transposeA: ta, transposeB: tb, beta: beta, plan: .only(backend))
          } } }
          let exact = ProductLanesTests.oracle(a, b, m: m, n: n, k: k, ta: ta, tb: tb)
          let worst = zip(c.indices, exact).map { i, e in abs(Double(c[i]) - (e + Double(beta) * Double(c0[i]))) }.max() ?? 0
          #expect(worst < 1e-5 * Double(k) + 1e-5, "\(backend.rawValue) \(m)x\(n)x\(k) ta=\(ta) tb=\(tb) beta=\(beta): off by \(worst)")
        }
      }
    }
  }

  /// Two lanes give the same bits as one under each backend (the backend is chosen for the whole product, and a
  /// row split hands each lane whole output rows).
  @Test(arguments: [(256, 256, 256), (256, 23, 256), (256, 256, 23), (256, 6, 256), (256, 256, 6), (1024, 64, 64),
                    (300, 40, 129), (96, 256, 256), (256, 23, 2560), (128, 128, 2560)])
  func twoLanesAreBitIdenticalUnderEachBackend(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for backend in Self.others + [.openblas] where backend.isAvailable {
      for (ta, tb) in [(false, false), (false, true), (true, false)] {
        let a = Tensor(shape: ta ? [k, m] : [m, k], scalars: ProductLanesTests.values(m * k, seed: m + 7))
        let b = Tensor(shape: tb ? [n, k] : [k, n], scalars: ProductLanesTests.values(k * n, seed: n + 3))
        let one = ProductLanes.with(plan: .only(backend)) { ProductLanesTests.withLanes(1) { Tensor.matmul(a, b, transposeA: ta, transposeB: tb) } }
        let two = ProductLanes.with(plan: .only(backend)) { ProductLanesTests.withLanes(2) { Tensor.matmul(a, b, transposeA: ta, transposeB: tb) } }
        #expect(one.isIdentical(to: two), "\(backend.rawValue) \(m)x\(n)x\(k) ta=\(ta) tb=\(tb): two lanes change bits")
      }
    }
  }

  /// The load-time self-check refuses a library whose products are wrong, and passes a right one.
  @Test func theSelfCheckRefusesAWrongLibrary() {
    var why = [CChar](repeating: 0, count: 256)
    let naive: stitch_sgemm_like = { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc in
      for i in 0..<m { for j in 0..<n {
        var s: Float = 0
        for p in 0..<k { s += (ta != 0 ? a![Int(p * lda + i)] : a![Int(i * lda + p)]) * (tb != 0 ? b![Int(j * ldb + p)] : b![Int(p * ldb + j)]) }
        c![Int(i * ldc + j)] = s + beta * c![Int(i * ldc + j)]
      } }
      return 0
    }
    #expect(stitch_backend_check_function(naive, &why, 256) == 1)
    let offByALittle: stitch_sgemm_like = { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc in
      for i in 0..<m { for j in 0..<n {
        var s: Float = 0
        for p in 0..<k { s += (ta != 0 ? a![Int(p * lda + i)] : a![Int(i * lda + p)]) * (tb != 0 ? b![Int(j * ldb + p)] : b![Int(p * ldb + j)]) }
        c![Int(i * ldc + j)] = s + beta * c![Int(i * ldc + j)] + (i == 3 && j == 4 ? 0.01 : 0)
      } }
      return 0
    }
    #expect(stitch_backend_check_function(offByALittle, &why, 256) == 0)
    let reason = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #expect(reason.contains("wrong result") && reason.contains("C[3,4]"), "\(reason)")
    // One that declines every probe (libxsmm with no JIT target for the CPU) would only hand products back.
    let declinesAll: stitch_sgemm_like = { _, _, _, _, _, _, _, _, _, _, _, _ in 1 }
    #expect(stitch_backend_check_function(declinesAll, &why, 256) == 0)
    let none = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #expect(none.contains("none of the probe products"), "\(none)")
  }

  /// A product on a backend splits into the same halves on one lane as on two, so the bits cannot depend on
  /// whether the library sums a half as it sums the whole (on a CPU where it leaves products to OpenBLAS's
  /// AVX-512 kernel, they do not: reproduced here with LIBXSMM_TARGET=generic). A backend that is faithful to
  /// the split on this CPU passes either way; this checks the one-lane halves against a whole computed by hand.
  @Test func aBackendProductOnOneLaneIsItsTwoHalves() {
    let (m, n, k) = (300, 40, 129)
    let a = ProductLanesTests.values(m * k, seed: 31), b = ProductLanesTests.values(k * n, seed: 32)
    guard let (axis, at) = ProductLanes.split(m: m, n: n, k: k, kernel: .haswellLike) else {
      Issue.record("300x40x129 should split"); return
    }
    #expect(axis == .rows)
    for backend in Self.others where backend.isAvailable {
      var whole = [Float](repeating: 0, count: m * n)
      a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in whole.withUnsafeMutableBufferPointer { pc in
        ProductLanesTests.withLanes(1) {
          ProductLanes.sgemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, batch: 1,
                             transposeA: false, transposeB: false, beta: 0, plan: .only(backend))
        }
      } } }
      // The halves by hand, each a product of its own on the same backend.
      var halves = [Float](repeating: 0, count: m * n)
      a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in halves.withUnsafeMutableBufferPointer { pc in
        for (i0, i1) in [(0, at), (at, m)] {
          let status = stitch_backend_sgemm(backend.code, 0, 0, i1 - i0, n, k, pa.baseAddress! + i0 * k, k,
                                            pb.baseAddress!, n, 0, pc.baseAddress! + i0 * n, n)
          if status != 0 {  // declined: OpenBLAS, as the plan would leave it
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(i1 - i0), Int32(n), Int32(k), 1,
                        pa.baseAddress! + i0 * k, Int32(k), pb.baseAddress!, Int32(n), 0, pc.baseAddress! + i0 * n, Int32(n))
          }
        }
      } } }
      #expect(whole == halves, "\(backend.rawValue): one lane did not compute the two halves")
    }
  }

  /// A backend that is absent says why in one line; one that is present has a version.
  @Test func everyBackendIsEitherUsableWithAVersionOrSaysWhyNot() {
    for backend in Self.others {
      if backend.isAvailable { #expect(!backend.version.isEmpty && backend.note.isEmpty) }
      else { #expect(!backend.note.isEmpty && !backend.note.contains("\n"), "\(backend.rawValue): \(backend.note)") }
    }
  }
}
