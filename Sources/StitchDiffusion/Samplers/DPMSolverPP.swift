import Foundation

import StitchTensor

/// DPM-Solver++ with data prediction (Lu et al., arXiv 2211.01095): exponential integrators of the
/// probability-flow ODE in λ. With h = λ_t − λ_s and m = x̂₀:
/// - first order (= DDIM): x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·m_s;
/// - **2M** (multistep, Alg. 2, "midpoint" form of the reference code): r₀ = h₀/h, D₁ = (m₀ − m₁)/r₀,
///   x_t = (σ_t/σ_{s₀})·x − α_t(e^{−h} − 1)·m₀ − ½·α_t(e^{−h} − 1)·D₁;
/// - **3M** (multistep, reference code `multistep_dpm_solver_third_update`; not a numbered algorithm of the paper):
///   D₁ = D₁₀ + r₀/(r₀ + r₁)·(D₁₀ − D₁₁), D₂ = (D₁₀ − D₁₁)/(r₀ + r₁), x_t = (σ_t/σ_{s₀})x − α_tφ₁m₀ + α_tφ₂D₁ − α_tφ₃D₂,
///   φ₁ = e^{−h} − 1, φ₂ = φ₁/h + 1, φ₃ = φ₂/h − ½;
/// - **2S** (single-step, Alg. 1 with r = ½): an intermediate point at λ_s + h/2, two evaluations per step.
/// Multistep solvers warm up with lower orders for their first steps and, as the reference sampler
/// (`DPM_Solver.sample(lower_order_final=True)`), lower the order at the last steps when there are fewer than 10.
public struct DPMSolverPlusPlus: DiffusionSampler {
  public enum Variant: String, Sendable { case twoM = "2m", threeM = "3m", twoS = "2s" }
  public var variant: Variant
  public var lowerOrderFinal = true
  public init(_ variant: Variant, lowerOrderFinal: Bool = true) {
    self.variant = variant
    self.lowerOrderFinal = lowerOrderFinal
  }
  public var id: String { "dpmpp-" + variant.rawValue }
  public var order: Int { variant == .threeM ? 3 : 2 }
  public func evaluations(steps: Int) -> Int { variant == .twoS ? 2 * steps : steps }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    let n = times.count - 1
    let lambdas = times.map { schedule.lambda($0) }
    if variant == .twoS {
      for i in 0..<n {
        let s = times[i], t = times[i + 1]
        let h = lambdas[i + 1] - lambdas[i]
        let m0 = try model(x, s)
        let mid = schedule.time(lambda: lambdas[i] + 0.5 * h)
        let u = Vec.combine([(schedule.sigma(mid) / schedule.sigma(s), x), (-schedule.alpha(mid) * expm1(-0.5 * h), m0)])
        let mMid = try model(u, mid)
        // D = (1 − 1/(2r))·m_s + 1/(2r)·m_mid with r = ½ is m_mid.
        x = Vec.combine([(schedule.sigma(t) / schedule.sigma(s), x), (-schedule.alpha(t) * expm1(-h), mMid)])
      }
      return
    }
    let maxOrder = variant == .threeM ? 3 : 2
    var history: [[Double]] = []  // data predictions, newest last
    for i in 0..<n {
      let s = times[i], t = times[i + 1]
      history.append(try model(x, s))
      if history.count > 3 { history.removeFirst() }
      var order = Swift.min(maxOrder, history.count)
      if lowerOrderFinal && n < 10 { order = Swift.min(order, n - i) }
      let h = lambdas[i + 1] - lambdas[i]
      let aT = schedule.alpha(t), ratio = schedule.sigma(t) / schedule.sigma(s)
      let phi1 = expm1(-h)
      let m0 = history[history.count - 1]
      switch order {
      case 1:
        x = Vec.combine([(ratio, x), (-aT * phi1, m0)])
      case 2:
        let m1 = history[history.count - 2]
        let r0 = (lambdas[i] - lambdas[i - 1]) / h
        // D1 = (m0 − m1)/r0; x − α φ1 m0 − ½ α φ1 D1
        let c = -0.5 * aT * phi1 / r0
        x = Vec.combine([(ratio, x), (-aT * phi1 + c, m0), (-c, m1)])
      default:
        let m1 = history[history.count - 2], m2 = history[history.count - 3]
        let r0 = (lambdas[i] - lambdas[i - 1]) / h, r1 = (lambdas[i - 1] - lambdas[i - 2]) / h
        let phi2 = phi1 / h + 1, phi3 = phi2 / h - 0.5
        // D1_0 = (m0 − m1)/r0, D1_1 = (m1 − m2)/r1; D1 = D1_0 + r0/(r0+r1)(D1_0 − D1_1); D2 = (D1_0 − D1_1)/(r0+r1)
        let d10 = Vec.combine([(1 / r0, m0), (-1 / r0, m1)])
        let d11 = Vec.combine([(1 / r1, m1), (-1 / r1, m2)])
        let diff = Vec.combine([(1, d10), (-1, d11)])
        let d1 = Vec.combine([(1, d10), (r0 / (r0 + r1), diff)])
        let d2 = diff.map { $0 / (r0 + r1) }
        x = Vec.combine([(ratio, x), (-aT * phi1, m0), (aT * phi2, d1), (-aT * phi3, d2)])
      }
    }
  }
}
