import CGemm

extension BLAS {
  /// One core's FMA peak in GFLOP/s, measured once per process (about 0.1 s): the best of the AVX-512 and the
  /// AVX2 fused multiply-add loops of `CGemm`'s `stitch_fma_peak_gflops` that this CPU supports, or nil on a CPU
  /// with neither. Benchmarks report products' speed as a fraction of it (`fma_peak_fraction`); a constant
  /// would be wrong on the next machine kind (Zen 4 and Zen 5 EPYCs, both sold as "AMD EPYC", differ by 2x).
  public static let measuredFMAPeakGFLOPS: Double? = {
    guard let flags = cpuFlags() else { return nil }
    var best = 0.0
    if flags.isSuperset(of: ["avx2", "fma"]) { best = max(best, stitch_fma_peak_gflops(0, 2_000_000, 5)) }
    if flags.contains("avx512f") { best = max(best, stitch_fma_peak_gflops(1, 2_000_000, 5)) }
    return best > 0 ? best : nil
  }()
}
