import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

extension SynthER {
  /// What `searchSchedule` found, with the figures a user needs to judge it.
  public struct ScheduleSearchReport: Sendable {
    public let search: ScheduleSearch.Result
    /// Held-out RMS errors (fresh noise, same reference solver): best standard spacing, and the searched times.
    public let heldOutStandard: Double
    public let heldOutSearched: Double
    /// RMS difference between the reference solver at its steps and at half of them: how exact the reference is.
    public let referenceAccuracy: Double
  }

  /// Searches the step schedule of `sampler` at `steps` for a trained SynthER model (`ScheduleSearch`): `rows`
  /// probe rows of seeded noise, solved accurately by DPM-Solver++ 3M at `referenceSteps` log-SNR steps, are the
  /// target; a second, independent batch measures how the schedule carries over.
  public static func searchSchedule(model: DiffusionModel, sampler: any DiffusionSampler, steps: Int, rows: Int = 256,
                                    referenceSteps: Int = 200, seed: UInt64) throws -> ScheduleSearchReport {
    let schedule = model.schedule
    let d = model.ema.dimension
    let denoiser = model.denoiser()
    let referenceSolver = Samplers.named("dpmpp-3m")!
    var rng = RandomStream(seed: seed).child(named: "schedule-search")
    func solve(_ start: [Double], _ n: Int) throws -> [Double] {
      var x = start
      var r = RandomStream(seed: 0)
      try referenceSolver.sample(&x, times: StepSpacing.logSNR.times(n, schedule: schedule), schedule: schedule, model: denoiser, rng: &r)
      return x
    }
    let probe = (0..<(rows * d)).map { _ in schedule.maxTime * rng.nextNormal() }
    let heldOut = (0..<(rows * d)).map { _ in schedule.maxTime * rng.nextNormal() }
    let probeReference = try solve(probe, referenceSteps)
    let heldOutReference = try solve(heldOut, referenceSteps)
    let half = try solve(probe, referenceSteps / 2)
    let accuracy = ScheduleSearch.rmsDistance(half, probeReference)
    let search = ScheduleSearch(sampler: sampler, steps: steps)
    let result = try search.search(start: probe, reference: probeReference, schedule: schedule, model: denoiser)
    let heldOutSearched = try search.error(times: result.times, start: heldOut, reference: heldOutReference, schedule: schedule, model: denoiser)
    let heldOutStandard = try search.error(times: result.startSpacing.times(steps, schedule: schedule), start: heldOut,
                                           reference: heldOutReference, schedule: schedule, model: denoiser)
    return ScheduleSearchReport(search: result, heldOutStandard: heldOutStandard, heldOutSearched: heldOutSearched,
                                referenceAccuracy: accuracy)
  }
}
