import Foundation
import Testing
@testable import StitchDiffusion

import StitchTensor

/// DPM-Solver-v3 against the Gaussian mixture's exact probability-flow ODE solution (the starting points and
/// reference of `SamplerExactnessTests`), with degenerate statistics (where it must reduce to known solvers) and
/// with statistics estimated from mixture samples.
@Suite struct DPMSolverV3Tests {
  typealias Exact = SamplerExactnessTests

  /// EMS of the mixture's exact denoiser from 4,096 mixture samples (the paper's largest K) on a 1,600-interval
  /// grid (a multiple of every step count used below, so log-SNR-uniform steps fall on grid points).
  static let estimated: EmpiricalModelStatistics = {
    var rng = RandomStream(seed: 5)
    let data = Exact.mixture.sample(4096, rng: &rng)
    return try! EmpiricalModelStatistics.estimate(model: Exact.mixture.denoiser(Exact.schedule), schedule: Exact.schedule,
                                                  data: data, dimension: 2, gridSize: 1600, rng: &rng)
  }()

  @Test func degenerateFirstOrderIsDDIM() throws {
    // l ≡ 1, s ≡ b ≡ 0: the first-order step is x_t = (σ_t/σ_s)x_s + α_t(1 − e^{−h})x̂₀, up to the trapezoid rule's
    // error on e^λ over a 4,000-interval grid (relative ~Δλ²/12 ≈ 5e-7).
    let ems = EmpiricalModelStatistics.degenerate(Exact.schedule, gridSize: 4000, dimension: 2)
    let v3 = DPMSolverV3(statistics: ems, solverOrder: 1, useCorrector: false)
    let times = StepSpacing.logSNR.times(10, schedule: Exact.schedule)
    var a = Exact.start, b = Exact.start
    var rng = RandomStream(seed: 0)
    try v3.sample(&a, times: times, schedule: Exact.schedule, model: Exact.mixture.denoiser(Exact.schedule), rng: &rng)
    try DDIMSampler(eta: 0).sample(&b, times: times, schedule: Exact.schedule, model: Exact.mixture.denoiser(Exact.schedule), rng: &rng)
    let worst = zip(a, b).map { Swift.abs($0 - $1) }.max()!
    #expect(worst < 1e-4, "largest difference from DDIM \(worst)")
    #expect(worst > 0 || a == b)
  }

  @Test func degenerateSecondOrderIsDPMSolverPlusPlus2MInTaylorForm() throws {
    // Order 2 without corrector is DPM-Solver++(2M) in the reference's 'taylor' form (notes of App. A.2):
    // x_t = (σ_t/σ_s)x − α_t φ₁ m₀ + α_t(φ₁/h + 1)·h·(m₀ − m₁)/h₀, φ₁ = e^{−h} − 1, computed here by hand.
    let ems = EmpiricalModelStatistics.degenerate(Exact.schedule, gridSize: 4000, dimension: 2)
    let v3 = DPMSolverV3(statistics: ems, solverOrder: 2, useCorrector: false, lowerOrderFinal: false)
    let s = Exact.schedule
    let times = StepSpacing.logSNR.times(8, schedule: s)
    let model = Exact.mixture.denoiser(s)
    var x = Exact.start
    var history: [[Double]] = []
    for i in 0..<(times.count - 1) {
      history.append(try model(x, times[i]))
      let h = s.lambda(times[i + 1]) - s.lambda(times[i])
      let phi1 = expm1(-h), aT = s.alpha(times[i + 1]), ratio = s.sigma(times[i + 1]) / s.sigma(times[i])
      let m0 = history[history.count - 1]
      if history.count == 1 {
        x = (0..<x.count).map { ratio * x[$0] - aT * phi1 * m0[$0] }
      } else {
        let m1 = history[history.count - 2]
        let h0 = s.lambda(times[i]) - s.lambda(times[i - 1])
        x = (0..<x.count).map { ratio * x[$0] - aT * phi1 * m0[$0] + aT * (phi1 / h + 1) * (m0[$0] - m1[$0]) / h0 * h }
      }
    }
    var y = Exact.start
    var rng = RandomStream(seed: 0)
    try v3.sample(&y, times: times, schedule: s, model: model, rng: &rng)
    let worst = zip(x, y).map { Swift.abs($0 - $1) }.max()!
    #expect(worst < 1e-4, "largest difference from DPM-Solver++(2M, Taylor) \(worst)")
  }

  @Test func estimatedStatisticsAreFiniteAndNotDegenerate() {
    let e = Self.estimated
    #expect(e.lambdas.count == 1601 && e.l.count == 1601 && e.l[0].count == 2)
    #expect([e.l, e.s, e.b].allSatisfy { $0.allSatisfy { $0.allSatisfy(\.isFinite) } })
    // At the noise end the mixture is nearly Gaussian: σ∇ₓε ≈ σ²·I/(σ² + α²·var) → l near σ² ≈ 1; at the data end
    // x̂₀ follows x inside one component, so l falls well below 1.
    #expect(e.l[0].allSatisfy { Swift.abs($0 - 1) < 0.1 }, "l at λ_T: \(e.l[0])")
    #expect(e.l[1600].allSatisfy { $0 < 0.5 }, "l at λ_0: \(e.l[1600])")
  }

  /// Smooth, arbitrary statistics: the exact-solution formula (paper eq. 9) holds for any l, s, b, so with smooth
  /// ones the solver must converge at its full order (paper App. I.3), whatever the model.
  static let smooth: EmpiricalModelStatistics = {
    var e = EmpiricalModelStatistics.degenerate(Exact.schedule, gridSize: 3200, dimension: 2)
    for (j, lam) in e.lambdas.enumerated() {
      e.l[j] = [0.6 + 0.3 * sin(lam), 0.4 + 0.2 * cos(0.5 * lam)]
      e.s[j] = [0.2 * cos(lam), -0.3 + 0.1 * sin(lam)]
      e.b[j] = [0.1 * sin(2 * lam), 0.05 * cos(lam)]
    }
    return e
  }()

  @Test func convergesWithSmoothArbitraryStatistics() throws {
    // Without the lower-order final steps. Like every multistep method here, the first-order warm-up step keeps
    // the third-order variants' measured order near 2.2–2.5 (DPM-Solver++(3M): 2.2), so they are checked by
    // order > 2.2 and by beating the second-order variant.
    func run(_ order: Int, _ corrector: Bool) throws -> (Double, [Double]) {
      let v3 = DPMSolverV3(statistics: Self.smooth, solverOrder: order, useCorrector: corrector, lowerOrderFinal: false)
      let r = try Exact.measuredOrder(v3, steps: [20, 40, 80, 160])
      print("dpm-solver-v3 smooth EMS order \(order) corrector \(corrector): errors \(r.1.map { String(format: "%.3e", $0) }) measured order \(String(format: "%.2f", r.0))")
      #expect(zip(r.1, r.1.dropFirst()).allSatisfy { $1 < $0 }, "order \(order) corrector \(corrector): errors must fall: \(r.1)")
      return r
    }
    let (o1, _) = try run(1, false)
    let (o2, e2) = try run(2, false)
    let (o3, e3) = try run(3, false)
    let (o2c, e2c) = try run(2, true)
    let (o3c, e3c) = try run(3, true)
    #expect(Swift.abs(o1 - 1) < 0.3 && Swift.abs(o2 - 2) < 0.3, "orders \(o1), \(o2)")
    #expect(o3 > 2.2 && o3c > 2.0 && o2c > 2.3, "orders 3: \(o3), 3+corrector: \(o3c), 2+corrector: \(o2c)")
    #expect(e3.last! * 2 < e2.last! && e2c.last! < e2.last! && e3c.last! < e3.last!,
            "at 160 steps: order 2 \(e2.last!), 2+c \(e2c.last!), 3 \(e3.last!), 3+c \(e3c.last!)")
  }

  @Test func convergesToTheExactODESolutionDownToTheStatisticsNoise() throws {
    // With estimated statistics l, s and b carry sampling noise from grid point to grid point, which makes f rough
    // in λ: the error falls fast to about 1e-3 and then slowly (the paper's regime is 5–20 evaluations).
    let v3 = DPMSolverV3(statistics: Self.estimated)
    let (order, errors) = try Exact.measuredOrder(v3, steps: [20, 40, 80, 160])
    print("dpm-solver-v3: errors \(errors.map { String(format: "%.3e", $0) }) measured order \(String(format: "%.2f", order))")
    #expect(errors.allSatisfy { $0 < 1e-2 } && errors.last! < errors.first! / 4, "errors \(errors)")
    let pp3 = try Exact.error(DPMSolverPlusPlus(.threeM), steps: 20)
    #expect(errors[0] < pp3, "20 steps: v3 \(errors[0]) vs DPM-Solver++(3M) \(pp3)")
  }

  @Test func fewStepAccuracyBeatsTheOtherMultistepSolvers() throws {
    // The paper's claim (Table 1: fewer evaluations for the same quality), on the mixture: at 5 and 10 steps
    // DPM-Solver-v3 is closer to the exact solution than DPM-Solver++(3M) and UniPC-bh2.
    for steps in [5, 10] {
      let v3 = try Exact.error(DPMSolverV3(statistics: Self.estimated), steps: steps)
      let pp3 = try Exact.error(DPMSolverPlusPlus(.threeM), steps: steps)
      let unipc = try Exact.error(UniPCSampler(.bh2), steps: steps)
      print("steps \(steps): dpm-solver-v3 \(v3), dpmpp-3m \(pp3), unipc-bh2 \(unipc)")
      #expect(v3 < Swift.min(pp3, unipc), "steps \(steps): v3 \(v3) vs dpmpp-3m \(pp3), unipc-bh2 \(unipc)")
    }
  }

  @Test func badInputIsAClearError() {
    let ems = EmpiricalModelStatistics.degenerate(Exact.schedule, gridSize: 10, dimension: 2)
    let v3 = DPMSolverV3(statistics: ems)
    var x = [0.1, 0.2, 0.3]
    var rng = RandomStream(seed: 0)
    #expect { try v3.sample(&x, times: StepSpacing.logSNR.times(5, schedule: Exact.schedule), schedule: Exact.schedule,
                            model: Exact.mixture.denoiser(Exact.schedule), rng: &rng) } throws: { "\($0)".contains("dimension 2") }
    x = [0.1, 0.2]
    #expect { try v3.sample(&x, times: StepSpacing.logSNR.times(40, schedule: Exact.schedule), schedule: Exact.schedule,
                            model: Exact.mixture.denoiser(Exact.schedule), rng: &rng) } throws: { "\($0)".contains("finer grid") }
  }
}
