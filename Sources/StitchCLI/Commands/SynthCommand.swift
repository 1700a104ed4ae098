import ArgumentParser
import Foundation

import Stitch

/// `stitch synth`: SynthER synthetic experience.
struct SynthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract: "Make synthetic transitions with a diffusion model of a dataset (SynthER) and report their quality.",
    discussion: """
      Trains SynthER's residual-MLP denoiser with the EDM loss on the dataset's z-scored transitions
      [s, a, r, s', terminal] (or loads one with --model), samples --samples transitions with the chosen sampler,
      thresholds terminals at 0.5 (and clears them when the real data has none) and writes a D4RL-layout HDF5 file. The model is saved beside the output as
      OUTPUT.model.safetensors, and a quality report (per-dimension Wasserstein-1, MMD, and for MuJoCo tasks the
      dynamics error of the synthetic transitions) as OUTPUT.quality.json.
      Default network: width 512, 6 blocks, batch 256, 20k steps (CPU-sized); --paper uses SynthER's width 2048,
      batch 1024, 100k steps. Samplers: \(Samplers.ids.joined(separator: ", ")).
      Example:
        stitch synth --dataset data/pendulum-medium.hdf5 --samples 100000 --sampler dpmpp-2m --steps 16 -o data/pendulum-synth.hdf5
        stitch synth --dataset data/hopper-medium.hdf5 --model data/hopper-synth.hdf5.model.safetensors --samples 1000000 -o data/hopper-synth-2.hdf5
      """)

  @Option(help: "Real dataset (D4RL layout).") var dataset: String
  @Option(help: "Number of synthetic transitions.") var samples: Int = 100_000
  @Option(help: "Sampler id.") var sampler: String = "dpmpp-2m"
  @Option(help: "Sampler steps.") var steps: Int = 16
  @Option(help: "Step spacing: \(StepSpacing.allCases.map(\.rawValue).joined(separator: ", ")).") var spacing: String = "karras"
  @Option(name: [.short, .customLong("out")], help: "Output HDF5 file.") var out: String?
  @Option(name: .customLong("output"), help: ArgumentHelp("Former spelling of --out (kept for one release).", visibility: .hidden)) var outputAlias: String?
  @Option(help: "Load this trained model instead of training.") var model: String?
  @Option(help: "Denoiser training steps (default 20000; 100000 with --paper).") var trainSteps: Int?
  @Option(help: "Denoiser width (default 512; 2048 with --paper).") var width: Int?
  @Option(help: "Training batch size (default 256; 1024 with --paper).") var batchSize: Int?
  @Flag(help: "SynthER's paper configuration (width 2048, batch 1024, 100k steps).") var paper = false
  @Option(help: "Environment for the dynamics check (default: the dataset's own, when recorded).") var env: String?
  @Option(help: "Seed of training and sampling.") var seed: UInt64 = 0
  @Option(help: "dpm-solver-v3: real rows for its empirical model statistics (the paper: 1,024-4,096).") var emsRows: Int = 1024
  @Option(help: "dpm-solver-v3: intervals of the statistics' λ grid (the paper: 120-1,200; must exceed the step count).") var emsGrid: Int = 500
  @Flag(help: "Search the sampler's step schedule for this model before sampling (against DPM-Solver++ 3M at 200 steps on 256 probe rows; reports probe and held-out errors; never worse than the best standard spacing on the probe).")
  var searchSchedule = false

  @Option(help: ArgumentHelp("Cores the denoiser's training products use: 1, 2, or auto (2 on a machine with two or more cores). Training is reproducible for a fixed value.", valueName: "auto|1|2"))
  var lanes: String?

  /// `-o/--out` (or the former `--output`).
  var output: String { get throws { try OutputPath.resolve(out, outputAlias) } }

  func run() throws {
    let output = try self.output
    if model != nil {
      // A loaded model is not trained: its training flags would be silently ignored.
      let training = [("--train-steps", trainSteps != nil), ("--width", width != nil), ("--batch-size", batchSize != nil),
                      ("--paper", paper), ("--lanes", lanes != nil)].filter(\.1).map(\.0)
      if !training.isEmpty {
        throw ValidationError("--model loads a trained denoiser; \(training.joined(separator: ", ")) configure training and cannot change it")
      }
    }
    let isV3 = sampler.lowercased() == DPMSolverV3.cliID
    guard isV3 || Samplers.named(sampler) != nil else {
      throw ValidationError("unknown sampler '\(sampler)'; known: \(Samplers.allIDs.joined(separator: ", "))")
    }
    if isV3 && searchSchedule {
      throw ValidationError("--search-schedule moves step times freely; dpm-solver-v3 keeps them on its statistics' grid: use one or the other")
    }
    guard let spacingKind = StepSpacing(rawValue: spacing) else {
      throw ValidationError("unknown spacing '\(spacing)'; known: \(StepSpacing.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard samples > 0, steps > 0 else { throw ValidationError("--samples and --steps must be positive") }
    for (flag, value) in [("--train-steps", trainSteps), ("--width", width), ("--batch-size", batchSize)] {
      if let value, value <= 0 { throw ValidationError("\(flag) must be positive, got \(value)") }
    }
    if isV3 {
      guard emsRows > 0 else { throw ValidationError("--ems-rows must be positive, got \(emsRows)") }
      guard emsGrid > steps else { throw ValidationError("--ems-grid (\(emsGrid)) must exceed --steps (\(steps)): the solver's steps fall on the statistics' grid") }
    }
    BLAS.threads = 1
    let (real, report) = try DatasetFile.read(dataset)
    for note in report.notes { FileHandle.standardError.write(Data("dataset: \(note)\n".utf8)) }
    // At least two transitions: the quality report's unbiased MMD² divides by n(n − 1) (one row would give NaN).
    try TrainCommand.checkTrainable(real, path: dataset, what: "--dataset", minimum: 2)
    let modelURL = URL(fileURLWithPath: output + ".model.safetensors")
    let diffusion: DiffusionModel
    let layout: SynthER.Layout
    if let model {
      (diffusion, layout, _) = try DiffusionModel.read(from: URL(fileURLWithPath: model))
      guard layout.observationDim == real.observationDim, layout.actionDim == real.actionDim else {
        throw ValidationError("model \(model) was trained on \(layout.observationDim)-dim observations and \(layout.actionDim)-dim actions; \(dataset) has \(real.observationDim) and \(real.actionDim)")
      }
    } else {
      var config = paper ? DiffusionTrainingConfiguration.paper : DiffusionTrainingConfiguration.cpu
      if let trainSteps { config.steps = trainSteps }
      if let width { config.size.width = width }
      if let batchSize { config.batchSize = batchSize }
      StopSignal.install()
      let reporter = ProgressReporter(label: "synth: training denoiser (width \(config.size.width), batch \(config.batchSize))", total: config.steps)
      let start = Date()
      let (trainer, fitted) = try ProductLanes.with(try ProductLanesOption.resolve(lanes ?? "auto", concurrentRuns: 1)) {
        try SynthER.train(real, configuration: config, seed: seed,
                          progress: { step, loss in reporter.update(step, note: String(format: "EDM loss %.4f", loss)) },
                          shouldStop: { StopSignal.isRequested })
      }
      reporter.finish(note: String(format: "%.0f s", Date().timeIntervalSince(start)))
      diffusion = trainer.model
      layout = fitted
      try diffusion.write(layout: layout, to: modelURL, extra: ["trained_steps": String(trainer.step), "dataset": dataset, "seed": String(seed)])
      print("model: \(modelURL.path) (\(trainer.step) steps)")
      if StopSignal.isRequested { print("stopped early: the model is saved; sampling anyway"); }
    }
    let chosen: any DiffusionSampler
    if isV3 {
      // DPM-Solver-v3 needs the model's empirical statistics first (Zheng et al. 2023, §3.4).
      let started = Date()
      let reporter = ProgressReporter(label: "synth: dpm-solver-v3 statistics (\(Swift.min(emsRows, real.count)) rows, \(emsGrid + 1) grid points, 2 passes)", total: 2 * (emsGrid + 1), unit: "points")
      let ems = try SynthER.estimateStatistics(model: diffusion, layout: layout, real: real, rows: emsRows, gridSize: emsGrid, seed: seed,
                                               progress: { done, _ in reporter.update(done) })
      reporter.finish(note: "")
      print("dpm-solver-v3: statistics from \(Swift.min(emsRows, real.count)) rows on a \(emsGrid)-interval λ grid (\(String(format: "%.0f", Date().timeIntervalSince(started))) s)")
      chosen = DPMSolverV3(statistics: ems)
    } else {
      chosen = Samplers.named(sampler)!
    }
    var searchedTimes: [Double]? = nil
    if searchSchedule {
      let started = Date()
      let report = try SynthER.searchSchedule(model: diffusion, sampler: chosen, steps: steps, seed: seed)
      let s = report.search
      print("schedule search: \(chosen.id), \(steps) steps, \(s.objectiveEvaluations) runs over 256 probe rows (\(String(format: "%.0f", Date().timeIntervalSince(started))) s); reference accuracy \(String(format: "%.2e", report.referenceAccuracy)) RMS")
      for (spacing, error) in s.spacingErrors {
        print("  " + spacing.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0) + String(format: " probe RMS error %.5f", error))
      }
      print(String(format: "  searched        probe RMS error %.5f (%.0f%% of ", s.searchedError, 100 * s.searchedError / s.startError)
            + s.startSpacing.rawValue + String(format: "); held-out %.5f against %.5f", report.heldOutSearched, report.heldOutStandard))
      print("  times: " + s.times.map { String(format: "%.5g", $0) }.joined(separator: ", "))
      if report.heldOutSearched < report.heldOutStandard { searchedTimes = s.times }
      else { print("  the searched schedule does not carry over to held-out noise: sampling with \(s.startSpacing.rawValue) instead") }
    }
    let reporter = ProgressReporter(label: "synth: sampling \(chosen.id) \(steps) steps (\(chosen.evaluations(steps: steps)) evaluations)", total: samples, unit: "transitions")
    let counter = SharedCounter()
    let start = Date()
    var synthetic = try SynthER.generate(model: diffusion, layout: layout, count: samples, sampler: chosen, steps: steps,
                                         spacing: spacingKind, times: searchedTimes, seed: seed &+ 1,
                                         terminalsPossible: real.terminals.contains(true)) { n in reporter.update(counter.add(n)) }
    let seconds = Date().timeIntervalSince(start)
    reporter.finish(note: String(format: "%.0f transitions/s", Double(samples) / seconds))
    synthetic.metadata = ["synthetic": "synther", "source_dataset": dataset, "sampler": chosen.id, "sampler_steps": String(steps),
                          "spacing": searchedTimes == nil ? spacingKind.rawValue : "searched", "environment": real.metadata["environment"] ?? env ?? ""]
    if let searchedTimes { synthetic.metadata["sampler_times"] = searchedTimes.map { String($0) }.joined(separator: ",") }
    try D4RLFile.write(synthetic, to: output)
    print("wrote \(output): \(synthetic.count) transitions, \(synthetic.terminals.filter { $0 }.count) terminal")
    let quality = try SyntheticQuality.measure(real: real, synthetic: synthetic, environment: env ?? real.metadata["environment"], seed: seed)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(encoder.encode(quality), to: URL(fileURLWithPath: output + ".quality.json"))
    print(String(format: "quality: mean W1 %.4f (z-scored units), MMD² %.5f (real vs real %.5f)", quality.meanWasserstein, quality.mmd, quality.mmdRealVsReal))
    if let dyn = quality.dynamics {
      print(String(format: "dynamics: next-observation MSE %.5f, reward MAE %.4f, terminal agreement %.3f over %d rows (%d skipped)",
                   dyn.nextObservationMSE, dyn.rewardMAE, dyn.terminalAgreement, dyn.rowsChecked, dyn.rowsSkipped))
    } else {
      print("dynamics: not measured (only for MuJoCo tasks, whose simulator state the observation determines)")
    }
  }
}

/// A thread-safe running total for progress from concurrent workers.
final class SharedCounter: @unchecked Sendable {
  var value = 0
  let lock = NSLock()
  func add(_ n: Int) -> Int { lock.lock(); defer { lock.unlock() }; value += n; return value }
}
