import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch bench samplers`: accuracy against the exact ODE solution and sampling throughput of every sampler.
struct BenchSamplers: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "samplers",
    abstract: "Error to the exact ODE solution on a Gaussian mixture, measured order, and samples/s with SynthER's network.",
    discussion: """
      Accuracy: the 2-D three-component Gaussian mixture of Stitch's exactness tests on the VP-linear schedule,
      log-SNR spacing, 256 starting points; error_to_exact = RMS distance to the probability-flow ODE solution
      (RK4, 4000 steps) at 5, 10, 20 and 50 steps; measured_order = least-squares slope of −log(error) against
      log(steps) over 20, 40, 80 and 160 steps (null for stochastic samplers, whose error is to a distribution).
      Throughput: samples_per_second = synthetic transitions per second made by the sampler with SynthER's
      denoiser (untrained weights: speed does not depend on them) at --width (default 512, Stitch's CPU default;
      SynthER uses 2048) for 27-dimensional Hopper transitions, chunks of 256 rows spread over all cores.
      Example:
        stitch bench samplers --json
      """)

  @OptionGroup var options: BenchOptions
  @Option(help: "Denoiser width for throughput.") var width: Int = 512
  @Option(help: "Rows sampled per throughput measurement.") var rows: Int = 512
  @Option(help: "Comma-separated step counts.") var steps: String = "5,10,20,50"
  @Option(help: "Comma-separated sampler ids (default: all).") var samplers: String?

  func run() throws {
    try options.applyThreads()
    let stepList = steps.split(separator: ",").compactMap { Int($0) }
    let schedule = VPLinearSchedule(), mixture = GaussianMixture.standard
    var netRNG = RandomStream(seed: 1)
    let dimension = 27
    let model = DiffusionModel(dimension: dimension, size: .init(width: width), rng: &netRNG)
    // Each entry: the sampler used on the mixture, and the one used with the network. They differ only for
    // DPM-Solver-v3, whose statistics belong to a model: on the mixture they are estimated (4,096 samples, a
    // 1,600-interval grid), for the untrained network's throughput degenerate ones of its size serve (the work per
    // step does not depend on their values).
    let chosen = try (samplers?.split(separator: ",").map(String.init) ?? Samplers.allIDs).map { id -> (any DiffusionSampler, any DiffusionSampler) in
      if id.lowercased() == DPMSolverV3.cliID {
        var emsRNG = RandomStream(seed: 5)
        let ems = try EmpiricalModelStatistics.estimate(model: mixture.denoiser(schedule), schedule: schedule,
                                                        data: mixture.sample(4096, rng: &emsRNG), dimension: 2, gridSize: 1600, rng: &emsRNG)
        return (DPMSolverV3(statistics: ems),
                DPMSolverV3(statistics: .degenerate(model.schedule, gridSize: 500, dimension: dimension)))
      }
      guard let s = Samplers.named(id) else { throw ValidationError("unknown sampler \(id); known: \(Samplers.allIDs.joined(separator: ", "))") }
      return (s, s)
    }
    var rng = RandomStream(seed: 11)
    let start = (0..<512).map { _ in rng.nextNormal() }
    let reference = mixture.referenceSolution(start, from: schedule.maxTime, to: schedule.minTime, schedule: schedule)
    func error(_ s: any DiffusionSampler, _ n: Int) throws -> Double {
      var x = start
      var r = RandomStream(seed: 0)
      try s.sample(&x, times: StepSpacing.logSNR.times(n, schedule: schedule), schedule: schedule, model: mixture.denoiser(schedule), rng: &r)
      return ScheduleSearch.rmsDistance(x, reference)
    }
    let layout = SynthER.Layout(observationDim: 11, actionDim: 3, mean: .init(repeating: 0, count: dimension), std: .init(repeating: 1, count: dimension))
    var results: [BenchResult] = []
    for (s, fast) in chosen {
      var order: Double? = nil
      if !s.isStochastic && s.order > 0 {
        let ns = [20, 40, 80, 160]
        let es = try ns.map { try error(s, $0) }
        let xs = ns.map { log(Double($0)) }, ys = es.map { -log($0) }
        let mx = xs.reduce(0, +) / 4, my = ys.reduce(0, +) / 4
        var num = 0.0, den = 0.0
        for (a, b) in zip(xs, ys) { num += (a - mx) * (b - my); den += (a - mx) * (a - mx) }
        order = num / den
      }
      for n in stepList {
        let e = s.isStochastic ? nil : try error(s, n)
        let begin = DispatchTime.now().uptimeNanoseconds
        _ = try SynthER.generate(model: model, layout: layout, count: rows, sampler: fast, steps: n, seed: 3, chunk: 256)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        var extra: [(String, Double)] = [("steps", Double(n)), ("nfe", Double(s.evaluations(steps: n)))]
        if let e { extra.append(("error_to_exact", e)) }
        if let order { extra.append(("measured_order", order)) }
        extra.append(("samples_per_second", Double(rows) / seconds))
        let flops = model.ema.forwardFlopsPerRow * Double(rows * s.evaluations(steps: n))
        results.append(BenchResult(name: s.id, stepsPerSecond: Double(rows) / seconds, gflops: flops / seconds / 1e9, sgemmFraction: nil,
                                   threads: ProcessInfo.processInfo.activeProcessorCount, extra: extra))
      }
    }
    BenchReport.print(results, json: options.json)
  }
}
