import Foundation
import Testing
@testable import StitchDiffusion

import StitchTensor

/// Every sampler against the exact probability-flow ODE solution of a Gaussian mixture (closed form for one
/// component, RK4 at 4000 steps for three), and stochastic samplers against the mixture's moments.
@Suite struct SamplerExactnessTests {
  static let schedule = VPLinearSchedule()
  static let mixture = GaussianMixture.standard

  /// 64 starting points at t = T (VP: x_T ~ N(0, I) to within e^{−5}).
  static let start: [Double] = {
    var rng = RandomStream(seed: 11)
    return (0..<128).map { _ in rng.nextNormal() }
  }()

  static let reference: [Double] = mixture.referenceSolution(start, from: schedule.maxTime, to: schedule.minTime, schedule: schedule)

  static func error(_ sampler: any DiffusionSampler, steps: Int, spacing: StepSpacing = .logSNR) throws -> Double {
    var x = start
    var rng = RandomStream(seed: 0)
    try sampler.sample(&x, times: spacing.times(steps, schedule: schedule), schedule: schedule, model: mixture.denoiser(schedule), rng: &rng)
    return (zip(x, reference).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(x.count)).squareRoot()
  }

  /// Least-squares slope of −log(error) against log(steps).
  static func measuredOrder(_ sampler: any DiffusionSampler, steps: [Int]) throws -> (Double, [Double]) {
    let errors = try steps.map { try error(sampler, steps: $0) }
    let xs = steps.map { log(Double($0)) }, ys = errors.map { -log($0) }
    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
    var num = 0.0, den = 0.0
    for (a, b) in zip(xs, ys) {
      num += (a - mx) * (b - my)
      den += (a - mx) * (a - mx)
    }
    let slope = num / den
    return (slope, errors)
  }

  @Test func referenceSolverIsConverged() {
    let coarse = Self.mixture.referenceSolution(Self.start, from: Self.schedule.maxTime, to: Self.schedule.minTime, schedule: Self.schedule, steps: 2000)
    let gap = zip(coarse, Self.reference).map { Swift.abs($0 - $1) }.max()!
    #expect(gap < 1e-9, "RK4 2000 vs 4000 steps differ by \(gap)")
  }

  @Test func referenceSolverMatchesTheClosedFormForOneComponent() {
    let single = GaussianMixture(means: [[0.7, -1.2]], scales: [0.4], weights: [1])
    let exact = single.singleComponentSolution(Self.start, from: 1, to: 1e-3, schedule: Self.schedule)
    let rk4 = single.referenceSolution(Self.start, from: 1, to: 1e-3, schedule: Self.schedule, steps: 2000)
    #expect(zip(exact, rk4).allSatisfy { Swift.abs($0 - $1) < 1e-9 })
  }

  /// (sampler, expected global order). Third-order multistep methods (DPM-Solver++3M, DEIS-3, UniPC with its
  /// corrector) take one first-order and one second-order warm-up step, as their reference implementations do;
  /// those steps' local errors, O(h²) and O(h³), bound the global order by 2 asymptotically, so for them the
  /// test asks for a measured order of at least 2.2 over 20–160 steps (the warm-up error is small at t = T,
  /// where the data prediction barely depends on x) and errors at least 3x below DPM-Solver++2M's at 160 steps.
  static let cases: [(any DiffusionSampler, Double)] = [
    (DDIMSampler(eta: 0), 1), (EDMSampler(heun: false), 1), (EDMSampler(heun: true), 2),
    (DPMSolverPlusPlus(.twoM), 2), (DPMSolverPlusPlus(.threeM), 3), (DPMSolverPlusPlus(.twoS), 2),
    (DEISSampler(order: 1), 1), (DEISSampler(order: 2), 2), (DEISSampler(order: 3), 3),
    (UniPCSampler(.bh1, lowerOrderFinal: false), 3), (UniPCSampler(.bh2, lowerOrderFinal: false), 3),
  ]

  @Test(arguments: 0..<11)
  func convergesWithItsTheoreticalOrder(_ index: Int) throws {
    let (sampler, theory) = Self.cases[index]
    let (order, errors) = try Self.measuredOrder(sampler, steps: [20, 40, 80, 160])
    print("\(sampler.id): errors \(errors.map { String(format: "%.3e", $0) }) measured order \(String(format: "%.2f", order))")
    #expect(errors.last! < errors.first! / 7, "\(sampler.id) does not converge: \(errors)")
    #expect(zip(errors, errors.dropFirst()).allSatisfy { $1 < $0 }, "\(sampler.id) errors must fall with more steps: \(errors)")
    if theory < 3 {
      #expect(Swift.abs(order - theory) < 0.3, "\(sampler.id): measured order \(order), theory \(theory), errors \(errors)")
    } else {
      #expect(order > 2.2, "\(sampler.id): measured order \(order), errors \(errors)")
      let secondOrder = try Self.error(DPMSolverPlusPlus(.twoM), steps: 160)
      #expect(errors.last! * 3 < secondOrder, "\(sampler.id) at 160 steps: \(errors.last!) vs DPM-Solver++2M \(secondOrder)")
    }
  }
}
