import Testing
import StitchTensor
import CGemm

import COpenBLAS

@Suite struct BLASTests {
  /// The probe's product against a hand-computed dot product (closed form oracle for one entry).
  @Test func sgemmProbeComputesTheProduct() {
    let probe = SgemmProbe(3, 4, 2)
    let c00 = probe.run()
    // A[0, j] = (j % 7) * 0.01, B[j, 0] = ((j * 2) % 5) * 0.01 for j in 0..<4
    var expected: Float = 0
    for j in 0..<4 { expected += Float(j % 7) * 0.01 * Float((j * 2) % 5) * 0.01 }
    #expect(abs(c00 - expected) < 1e-7)
  }

  /// Left at 1 afterwards (the setting every Stitch command uses): restoring a larger count could race with the
  /// lane tests running beside this one, which need OpenBLAS at one thread.
  @Test func threadCountReachesOpenBLASAndIsAtLeastOne() {
    // A count below 1 would hand OpenBLAS 0 ("use every core") or a negative number: the setter clamps it.
    for requested in [0, -3, 1] {
      BLAS.threads = requested
      #expect(BLAS.threads == 1, "BLAS.threads = \(requested) left \(BLAS.threads)")
      #expect(Int(openblas_get_num_threads()) == 1, "OpenBLAS itself was not set")
    }
  }
}

/// OpenBLAS's fallback to a generic kernel on CPUs newer than its table is corrected from the CPU flags, and only then.
@Suite struct BLASCoreChoiceTests {
  static let avx512: Set<String> = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]

  @Test func genericKernelOnAnAVX512MachineBecomesSkylakeX() {
    #expect(BLAS.preferredCoreType(current: "Prescott", environment: [:], cpuFlags: Self.avx512) == "SkylakeX")
  }

  @Test func avx2WithoutAVX512BecomesHaswell() {
    #expect(BLAS.preferredCoreType(current: "Prescott", environment: [:], cpuFlags: ["avx", "avx2", "fma"]) == "Haswell")
  }

  @Test func aSpecificKernelTheUsersChoiceOrUnknownFlagsAreLeftAlone() {
    #expect(BLAS.preferredCoreType(current: "Cooperlake", environment: [:], cpuFlags: Self.avx512) == nil)
    #expect(BLAS.preferredCoreType(current: "Prescott", environment: ["OPENBLAS_CORETYPE": "Prescott"], cpuFlags: Self.avx512) == nil)
    #expect(BLAS.preferredCoreType(current: "Prescott", environment: [:], cpuFlags: nil) == nil)
    #expect(BLAS.preferredCoreType(current: "Prescott", environment: [:], cpuFlags: ["sse3", "ssse3"]) == nil)
  }

  /// An environment that pins an AVX2 kernel on an AVX-512 CPU is kept but reported; nothing else is.
  @Test func aNarrowerKernelPinnedByTheEnvironmentIsReported() {
    let pinned = ["OPENBLAS_CORETYPE": "Haswell"]
    let note = BLAS.coreTypeWarning(current: "Haswell", environment: pinned, cpuFlags: Self.avx512)
    #expect(note?.contains("OPENBLAS_CORETYPE=Haswell") == true)
    #expect(note?.contains("SkylakeX") == true)
    // An AVX-512 kernel chosen by the environment, no pin, a CPU without AVX-512, unknown flags: no note.
    #expect(BLAS.coreTypeWarning(current: "SkylakeX", environment: ["OPENBLAS_CORETYPE": "SkylakeX"], cpuFlags: Self.avx512) == nil)
    #expect(BLAS.coreTypeWarning(current: "Haswell", environment: [:], cpuFlags: Self.avx512) == nil)
    #expect(BLAS.coreTypeWarning(current: "Haswell", environment: pinned, cpuFlags: ["avx", "avx2", "fma"]) == nil)
    #expect(BLAS.coreTypeWarning(current: "Haswell", environment: pinned, cpuFlags: nil) == nil)
  }
}

/// The FMA-peak probe behind `fma_peak_fraction`: a positive finite figure on this CPU, nothing for bad input.
@Suite struct FMAPeakTests {
  @Test func theProbeRejectsEmptyLoops() {
    #expect(stitch_fma_peak_gflops(0, 0, 3) == 0)
    #expect(stitch_fma_peak_gflops(0, 1000, 0) == 0)
  }

  /// Skipped, saying so, on a CPU without AVX2 and FMA (the probe's instructions).
  @Test(.enabled(if: BLAS.cpuFlags()?.isSuperset(of: ["avx2", "fma"]) == true, "the FMA probe runs AVX2 FMA instructions, which this CPU lacks"))
  func theProbeMeasuresAPositiveRate() {
    let rate = stitch_fma_peak_gflops(0, 100_000, 2)
    #expect(rate.isFinite && rate > 0)
  }
}
