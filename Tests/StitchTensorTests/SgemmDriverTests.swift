import CGemm
import Testing

import StitchTensor

/// The Haswell-kernel sgemm driver (`CGemm`): when to use it, and what it computes.
@Suite struct SgemmDriverChoiceTests {
  static let zen4 = BLAS.CPUDescription(vendor: "AuthenticAMD", family: 25,
                                        flags: ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"])

  @Test func onOnlyForAMDFamily25UnderAnAVX512Kernel() {
    #expect(BLAS.prefersHaswellDriver(cpu: Self.zen4, core: "Cooperlake", environment: [:]))
    #expect(BLAS.prefersHaswellDriver(cpu: Self.zen4, core: "SkylakeX", environment: [:]))
    #expect(!BLAS.prefersHaswellDriver(cpu: Self.zen4, core: "Haswell", environment: [:]))  // already that kernel
    var intel = Self.zen4
    intel.vendor = "GenuineIntel"
    intel.family = 6
    #expect(!BLAS.prefersHaswellDriver(cpu: intel, core: "SkylakeX", environment: [:]))
    var zen5 = Self.zen4
    zen5.family = 26  // full-width AVX-512: not measured, so left to OpenBLAS
    #expect(!BLAS.prefersHaswellDriver(cpu: zen5, core: "SkylakeX", environment: [:]))
  }

  @Test func theEnvironmentDecidesButNeverWithoutAVX2AndFMA() {
    #expect(!BLAS.prefersHaswellDriver(cpu: Self.zen4, core: "Cooperlake", environment: ["STITCH_SGEMM": "openblas"]))
    var intel = Self.zen4
    intel.vendor = "GenuineIntel"
    #expect(BLAS.prefersHaswellDriver(cpu: intel, core: "SkylakeX", environment: ["STITCH_SGEMM": "haswell"]))
    let old = BLAS.CPUDescription(vendor: "AuthenticAMD", family: 25, flags: ["sse4_2", "avx"])
    #expect(!BLAS.prefersHaswellDriver(cpu: old, core: "Prescott", environment: ["STITCH_SGEMM": "haswell"]))
    #expect(!BLAS.prefersHaswellDriver(cpu: nil, core: "Cooperlake", environment: ["STITCH_SGEMM": "haswell"]))
  }

  @Test func cpuInfoIsReadFromTheFirstProcessor() {
    let text = """
      processor\t: 0
      vendor_id\t: AuthenticAMD
      cpu family\t: 25
      model\t\t: 17
      flags\t\t: fpu avx2 fma avx512f

      processor\t: 1
      vendor_id\t: GenuineIntel
      cpu family\t: 6
      """
    #expect(BLAS.parseCPUInfo(text) == BLAS.CPUDescription(vendor: "AuthenticAMD", family: 25,
                                                            flags: ["fpu", "avx2", "fma", "avx512f"]))
    #expect(BLAS.parseCPUInfo("model name : x\n") == nil)
  }
}

@Suite struct SgemmDriverTests {
  /// Row-major C = op(A)·op(B) + β·C in Double, the oracle, with each element's Σ|aᵢₗ·bₗⱼ| + |β·cᵢⱼ| (the
  /// scale of float rounding's worst case).
  static func reference(_ a: [Float], _ b: [Float], _ c: [Float], m: Int, n: Int, k: Int, ta: Bool, tb: Bool,
                        beta: Float) -> (values: [Double], scales: [Double]) {
    var out = [Double](repeating: 0, count: m * n), scales = out
    for i in 0..<m {
      for j in 0..<n {
        var s = 0.0, scale = 0.0
        for l in 0..<k {
          let x = ta ? a[l * m + i] : a[i * k + l]
          let y = tb ? b[j * k + l] : b[l * n + j]
          s += Double(x) * Double(y)
          scale += abs(Double(x) * Double(y))
        }
        out[i * n + j] = s + Double(beta) * Double(c[i * n + j])
        scales[i * n + j] = scale + abs(Double(beta) * Double(c[i * n + j]))
      }
    }
    return (out, scales)
  }

  static func product(_ a: [Float], _ b: [Float], _ c: inout [Float], rows: Range<Int>, m: Int, n: Int, k: Int,
                      ta: Bool, tb: Bool, beta: Float) -> Int32 {
    let lda = ta ? m : k, ldb = tb ? k : n
    return a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          stitch_gemm_rowmajor(ta ? 1 : 0, tb ? 1 : 0, rows.count, n, k, pa.baseAddress! + (ta ? rows.lowerBound : rows.lowerBound * lda),
                               lda, pb.baseAddress!, ldb, beta, pc.baseAddress! + rows.lowerBound * n, n)
        }
      }
    }
  }

  /// Every transpose pair and β ∈ {0, 1, 0.5}, at shapes that exercise partial register blocks (m, n not
  /// multiples of 8 or 12) and several k panels (k = 600 > 2 × 256), against a Double reference: every element
  /// within the worst-case float rounding of a (k + 2)-term sum, (k + 2)·ε·(Σ|aᵢₗbₗⱼ| + |βcᵢⱼ|) (Higham,
  /// "Accuracy and Stability of Numerical Algorithms", §3.1); a wrong packing or block is off by O(1).
  @Test(.enabled(if: stitch_gemm_available() != 0, "OpenBLAS without the Haswell kernels (not DYNAMIC_ARCH)"))
  func matchesTheReferenceProduct() {
    var rng = RandomStream(seed: 11)
    for (m, n, k) in [(64, 64, 16), (77, 131, 23), (130, 70, 600), (256, 6, 40)] {
      let a = Tensor.normal([m * k], using: &rng).scalars, b = Tensor.normal([k * n], using: &rng).scalars
      let c0 = Tensor.normal([m * n], using: &rng).scalars
      for ta in [false, true] {
        for tb in [false, true] {
          for beta: Float in [0, 1, 0.5] {
            var c = c0
            #expect(Self.product(a, b, &c, rows: 0..<m, m: m, n: n, k: k, ta: ta, tb: tb, beta: beta) == 0)
            let want = Self.reference(a, b, c0, m: m, n: n, k: k, ta: ta, tb: tb, beta: beta)
            let bound = Double(k + 2) * Double(Float.ulpOfOne)
            let worst = c.indices.map { abs(Double(c[$0]) - want.values[$0]) / want.scales[$0] }.max()!
            #expect(worst <= bound, "\(m)×\(n)×\(k) ta \(ta) tb \(tb) β \(beta): error \(worst) of the scale, bound \(bound)")
          }
        }
      }
    }
  }

  /// Two row blocks split at a multiple of 12 (what `ProductLanes` does for driver products) give the whole
  /// product's bits; this is what keeps two-lane runs identical to one-lane runs.
  @Test(.enabled(if: stitch_gemm_available() != 0, "OpenBLAS without the Haswell kernels (not DYNAMIC_ARCH)"))
  func rowBlocksAtMultiplesOf12AreBitIdentical() {
    var rng = RandomStream(seed: 12)
    for (m, n, k) in [(256, 256, 256), (100, 300, 77), (256, 1024, 600)] {
      let a = Tensor.normal([m * k], using: &rng).scalars, b = Tensor.normal([k * n], using: &rng).scalars
      for (ta, tb) in [(false, true), (true, false), (false, false)] {
        var whole = [Float](repeating: 0, count: m * n)
        _ = Self.product(a, b, &whole, rows: 0..<m, m: m, n: n, k: k, ta: ta, tb: tb, beta: 0)
        for at in stride(from: 12, to: m, by: 36) {
          var split = [Float](repeating: 0, count: m * n)
          _ = Self.product(a, b, &split, rows: 0..<at, m: m, n: n, k: k, ta: ta, tb: tb, beta: 0)
          _ = Self.product(a, b, &split, rows: at..<m, m: m, n: n, k: k, ta: ta, tb: tb, beta: 0)
          #expect(split == whole, "\(m)×\(n)×\(k) split at row \(at)")
        }
      }
    }
  }
}
