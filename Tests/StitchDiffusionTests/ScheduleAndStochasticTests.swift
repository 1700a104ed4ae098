import Foundation
import Testing
@testable import StitchDiffusion

import StitchTensor

@Suite struct ScheduleTests {
  static let schedules: [any NoiseSchedule] = [VPLinearSchedule(), VPCosineSchedule(), VESchedule(), EDMSchedule()]

  @Test func timeInvertsLambda() {
    for s in Self.schedules {
      for f in stride(from: 0.0, through: 1.0, by: 0.125) {
        let t = s.minTime + f * (s.maxTime - s.minTime)
        guard t > 0 else { continue }
        let back = s.time(lambda: s.lambda(t))
        #expect(Swift.abs(back - t) <= 1e-9 * Swift.max(1, t), "\(s.id): t \(t) → \(back)")
      }
    }
  }

  @Test func vpSchedulesPreserveVariance() {
    for s in [VPLinearSchedule(), VPCosineSchedule()] as [any NoiseSchedule] {
      for t in [0.01, 0.3, 0.7, 0.99] {
        #expect(Swift.abs(s.alpha(t) * s.alpha(t) + s.sigma(t) * s.sigma(t) - 1) < 1e-12)
      }
    }
  }

  @Test func vpLinearMatchesDDPMsDiscreteBetas() {
    // ᾱ at step n of DDPM's β = linspace(1e-4, 0.02, 1000) is Π(1 − βᵢ); the continuous schedule at t = n/1000
    // agrees to about 1e-3 (the continuous limit, Song et al. 2021 App. B).
    var alphaBar = 1.0
    for i in 0..<1000 {
      alphaBar *= 1 - (1e-4 + Double(i) * (0.02 - 1e-4) / 999)
      if (i + 1) % 250 == 0 {
        let t = Double(i + 1) / 1000
        #expect(Swift.abs(VPLinearSchedule().alpha(t) * VPLinearSchedule().alpha(t) - alphaBar) < 2e-3)
      }
    }
  }

  @Test func spacingsRunFromMaxToMinTime() {
    for s in Self.schedules {
      for spacing in StepSpacing.allCases {
        let times = spacing.times(10, schedule: s)
        #expect(times.count == 11 && times.first == s.maxTime && times.last == s.minTime)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 > $1 }, "\(s.id) \(spacing): \(times)")
      }
    }
    // Karras spacing on EDM reproduces eq. 5 directly.
    let k = StepSpacing.karras.times(4, schedule: EDMSchedule())
    let expected = (0...4).map { i in pow(pow(80.0, 1 / 7.0) + Double(i) / 4 * (pow(0.002, 1 / 7.0) - pow(80.0, 1 / 7.0)), 7) }
    #expect(zip(k, expected).allSatisfy { Swift.abs($0 - $1) < 1e-9 * Swift.max(1, $1) })
  }

  @Test func parameterizationsRoundTrip() {
    for p in Parameterization.allCases {
      let (x, x0) = (0.7, -1.3)
      let (a, s) = p == .edm ? (1.0, 2.5) : (0.6, 0.8)
      let raw = p.output(dataPrediction: x0, x: x, alpha: a, sigma: s, sigmaData: 0.5)
      #expect(Swift.abs(p.dataPrediction(output: raw, x: x, alpha: a, sigma: s, sigmaData: 0.5) - x0) < 1e-12, "\(p)")
    }
  }
}

@Suite struct StochasticSamplerTests {
  /// DDPM ancestral sampling and EDM's stochastic Heun draw from the mixture: mean and variance of 4000 samples
  /// within 4 standard errors of the exact moments.
  @Test(arguments: ["ddpm", "heun-churn"])
  func stochasticSamplersMatchTheMixtureMoments(_ id: String) throws {
    let sampler = try #require(Samplers.named(id))
    let mixture = GaussianMixture.standard
    let schedule: any NoiseSchedule = id == "ddpm" ? VPLinearSchedule() : EDMSchedule()
    var rng = RandomStream(seed: 5)
    let n = 4000
    let scale = schedule.sigma(schedule.maxTime)
    var x = (0..<(2 * n)).map { _ in scale * rng.nextNormal() }
    let spacing: StepSpacing = id == "ddpm" ? .uniformTime : .karras
    try sampler.sample(&x, times: spacing.times(200, schedule: schedule), schedule: schedule, model: mixture.denoiser(schedule), rng: &rng)
    for j in 0..<2 {
      let values = stride(from: j, to: x.count, by: 2).map { x[$0] }
      let mean = values.reduce(0, +) / Double(n)
      let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
      let se = (mixture.variance[j] / Double(n)).squareRoot()
      #expect(Swift.abs(mean - mixture.mean[j]) < 4 * se, "\(id) dim \(j): mean \(mean) vs \(mixture.mean[j])")
      #expect(Swift.abs(variance - mixture.variance[j]) < 0.06 * mixture.variance[j], "\(id) dim \(j): variance \(variance) vs \(mixture.variance[j])")
    }
  }

  @Test func timeShiftWithoutAWindowIsDDIM() throws {
    let schedule = VPLinearSchedule(), mixture = GaussianMixture.standard
    var rng = RandomStream(seed: 1)
    let start = (0..<64).map { _ in rng.nextNormal() }
    var a = start, b = start
    let times = StepSpacing.uniformTime.times(20, schedule: schedule)
    try TimeShiftSampler(window: 0).sample(&a, times: times, schedule: schedule, model: mixture.denoiser(schedule), rng: &rng)
    try DDIMSampler().sample(&b, times: times, schedule: schedule, model: mixture.denoiser(schedule), rng: &rng)
    #expect(a == b)
    var c = start
    try TimeShiftSampler(window: 40).sample(&c, times: times, schedule: schedule, model: mixture.denoiser(schedule), rng: &rng)
    #expect(c != b, "a window must shift some evaluation times")
  }

  @Test func everySamplerHasAUniqueIdAndKnownCost() {
    #expect(Set(Samplers.ids).count == Samplers.ids.count)
    #expect(Samplers.named("heun")!.evaluations(steps: 128) == 256)
    #expect(Samplers.named("dpmpp-2m")!.evaluations(steps: 16) == 16)
    #expect(Samplers.named("dpmpp-2s")!.evaluations(steps: 8) == 16)
  }
}
