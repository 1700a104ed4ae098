import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

@Suite struct SynthERTests {
  /// 300 Hopper-v4 transitions from a fixed random policy (episodes restart on termination).
  static func hopperTransitions() throws -> Dataset {
    var env = try EnvironmentRegistry.make("Hopper-v4")
    var obs = try env.reset(seed: 1).observation
    var rng = RandomStream(seed: 2)
    var ds = Dataset(observationDim: 11, actionDim: 3)
    var episode: UInt64 = 1
    for _ in 0..<300 {
      let a = (0..<3).map { _ in rng.nextDouble() * 2 - 1 }
      let s = try env.step(a)
      ds.append(observation: obs.map(Float.init), action: a.map(Float.init), reward: Float(s.reward),
                nextObservation: s.observation.map(Float.init), terminal: s.terminated, timeout: s.truncated)
      obs = s.observation
      if s.terminated || s.truncated { episode += 1; obs = try env.reset(seed: episode).observation }
    }
    return ds
  }

  @Test func vectorsRoundTripThroughTheLayout() throws {
    let ds = try Self.hopperTransitions()
    let layout = SynthER.layout(fitting: ds)
    #expect(layout.dimension == 2 * 11 + 3 + 2)
    let normalized = SynthER.normalize(SynthER.vectors(ds), layout).map(Double.init)
    let back = SynthER.dataset(fromNormalized: normalized, layout)
    #expect(back.count == ds.count)
    #expect(back.terminals == ds.terminals)
    for i in 0..<(ds.count * 11) { #expect(Swift.abs(back.observations[i] - ds.observations[i]) < 1e-4 * (1 + Swift.abs(ds.observations[i]))) }
    // Terminal column is not normalised.
    #expect(layout.mean.last == 0 && layout.std.last == 1)
  }

  /// The dynamics check is an oracle on real transitions: the simulator, set to each row's state, reproduces
  /// the row's next observation and reward (up to float32 storage of the dataset).
  @Test func realTransitionsHaveNoDynamicsError() throws {
    let ds = try Self.hopperTransitions()
    let q = try SyntheticQuality.measure(real: ds, synthetic: ds, environment: "Hopper-v4", sampleSize: 200)
    let dyn = try #require(q.dynamics)
    #expect(dyn.rowsChecked > 100)
    #expect(dyn.nextObservationMSE < 1e-8, "MSE \(dyn.nextObservationMSE)")
    #expect(dyn.rewardMAE < 1e-3, "reward MAE \(dyn.rewardMAE)")
    #expect(dyn.terminalAgreement == 1)
  }

  @Test func qualityMetricsSeparateShiftedData() throws {
    let ds = try Self.hopperTransitions()
    var shifted = ds
    for i in shifted.observations.indices { shifted.observations[i] += 0.5 }
    let same = try SyntheticQuality.measure(real: ds, synthetic: ds, environment: nil, sampleSize: 300, seed: 1)
    let moved = try SyntheticQuality.measure(real: ds, synthetic: shifted, environment: nil, sampleSize: 300, seed: 1)
    #expect(moved.meanWasserstein > 3 * same.meanWasserstein)
    #expect(moved.mmd > 5 * Swift.abs(same.mmd) && moved.mmd > 0.01)
  }

  @Test func strayTerminalsAreClearedWhenTheTaskCannotTerminate() throws {
    var ds = Dataset(observationDim: 1, actionDim: 1)
    for i in 0..<50 { ds.append(observation: [Float(i)], action: [0], reward: 0, nextObservation: [Float(i + 1)], terminal: false, timeout: false) }
    let layout = SynthER.layout(fitting: ds)
    var trainerConfig = DiffusionTrainingConfiguration(size: .init(width: 8, depth: 1, timeDimension: 8), batchSize: 8, steps: 1)
    trainerConfig.emaEvery = 1
    let model = DiffusionTrainer(dimension: layout.dimension, configuration: trainerConfig, seed: 0).model
    let out = try SynthER.generate(model: model, layout: layout, count: 200, sampler: DDIMSampler(), steps: 3, seed: 1, terminalsPossible: false)
    #expect(out.count == 200 && !out.terminals.contains(true))
  }

  /// The schedule search on a (tiny, briefly trained) SynthER model: a valid schedule, never worse than the best
  /// standard spacing on the probe rows, finite held-out figures, and the times are what `generate` then uses.
  @Test func scheduleSearchOnAModelGivesAValidScheduleNoWorseThanTheSpacings() throws {
    var ds = Dataset(observationDim: 2, actionDim: 1)
    var rng = RandomStream(seed: 4)
    for i in 0..<200 {
      let o = [Float(rng.nextNormal()), Float(rng.nextNormal())]
      ds.append(observation: o, action: [Float(i % 2)], reward: o[0], nextObservation: o.map { $0 * 0.9 }, terminal: false, timeout: false)
    }
    let layout = SynthER.layout(fitting: ds)
    let config = DiffusionTrainingConfiguration(size: .init(width: 16, depth: 1, timeDimension: 8), batchSize: 32, steps: 50)
    var trainer = DiffusionTrainer(dimension: layout.dimension, configuration: config, seed: 0)
    try trainer.train(data: SynthER.normalize(SynthER.vectors(ds), layout))
    let report = try SynthER.searchSchedule(model: trainer.model, sampler: DPMSolverPlusPlus(.twoM), steps: 4, rows: 32,
                                            referenceSteps: 40, seed: 3)
    let times = report.search.times
    #expect(times.count == 5 && zip(times, times.dropFirst()).allSatisfy { $0 > $1 })
    // The search moves the schedule and lowers the probe error (it returns the start when no step helps, so
    // `searched ≤ start` would hold by construction; strictly lower fails when the search does nothing), and the
    // gain carries over to fresh noise; the reference (against its own half-step solve) is more exact than either
    // schedule, so the comparison measures the schedules, not the reference.
    #expect(report.search.searchedError < report.search.startError, "\(report.search.searchedError) vs \(report.search.startError)")
    #expect(times != report.search.startSpacing.times(4, schedule: trainer.model.schedule))
    #expect(report.heldOutSearched < report.heldOutStandard, "held out \(report.heldOutSearched) vs \(report.heldOutStandard)")
    #expect(report.referenceAccuracy < report.heldOutSearched, "reference accuracy \(report.referenceAccuracy)")
    let out = try SynthER.generate(model: trainer.model, layout: layout, count: 10, sampler: DPMSolverPlusPlus(.twoM), steps: 4,
                                   times: times, seed: 1)
    #expect(out.count == 10 && out.observations.allSatisfy { $0.isFinite })
  }
}
