import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch bench data`: loading a D4RL file into memory and drawing minibatches from it.
struct BenchData: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Seconds to load a D4RL HDF5 file and microseconds per minibatch (uniform and return-weighted).",
    discussion: """
      load: `DatasetFile.read` of FILE (every column into Float32 arrays, validation and the episode index
      included), timed --repeats times; steps_per_second is loads per second, and seconds_median the median time
      of one load. sample-uniform / sample-return-weighted: batches of --batch-size transitions (observations,
      actions, rewards, next observations, terminals and next actions) copied into a preallocated batch;
      microseconds_per_batch is the median. benchmarks/data-vs-h5py runs this beside h5py reading the same file.
      Example:
        stitch bench data data/halfcheetah-random.hdf5 --json
      """)

  @Argument(help: "A D4RL-layout HDF5 file (or Minari folder).") var file: String
  @OptionGroup var options: BenchOptions
  @Option(help: "Timed loads (median reported).") var repeats: Int = 5
  @Option(name: .customLong("batch-size"), help: "Transitions per minibatch (default 256).") var batchSizeOption: Int?
  @Option(name: .customLong("batch"), help: ArgumentHelp("Former spelling of --batch-size (kept for one release).", visibility: .hidden)) var batchAlias: Int?
  var batch: Int { batchSizeOption ?? batchAlias ?? 256 }

  func run() throws {
    if batchSizeOption != nil, batchAlias != nil { throw ValidationError("give the batch size once, with --batch-size") }
    guard repeats > 0 else { throw ValidationError("--repeats must be positive (timed loads), got \(repeats)") }
    guard batch > 0 else { throw ValidationError("--batch-size must be positive, got \(batch)") }
    guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("\(file): no such file") }
    var times: [Double] = []
    var loaded: Dataset?
    for _ in 0..<repeats {
      let begin = DispatchTime.now().uptimeNanoseconds
      let (ds, _) = try DatasetFile.read(file)
      times.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
      loaded = ds
    }
    times.sort()
    let ds = loaded!
    try TrainCommand.checkTrainable(ds, path: file, what: "dataset")
    let median = times[times.count / 2]
    var results = [BenchResult(name: "load", stepsPerSecond: 1 / median, gflops: nil, sgemmFraction: nil, threads: 1,
                               extra: [("seconds_median", median), ("seconds_min", times.first!), ("transitions", Double(ds.count)),
                                       ("observation_dim", Double(ds.observationDim)), ("action_dim", Double(ds.actionDim))])]
    var b = Batch(size: batch, observationDim: ds.observationDim, actionDim: ds.actionDim)
    var rng = RandomStream(seed: 1)
    let uniform = UniformSampler(ds)
    let r1 = options.harness.rate { uniform.sample(into: &b, using: &rng) }
    results.append(BenchResult(name: "sample-uniform", stepsPerSecond: r1.median, gflops: nil, sgemmFraction: nil, threads: 1,
                               extra: [("microseconds_per_batch", 1e6 / r1.median), ("batch", Double(batch))]))
    let weighted = try TrajectoryWeightedSampler(ds, temperature: 0.1)
    let r2 = options.harness.rate { weighted.sample(into: &b, using: &rng) }
    results.append(BenchResult(name: "sample-return-weighted", stepsPerSecond: r2.median, gflops: nil, sgemmFraction: nil, threads: 1,
                               extra: [("microseconds_per_batch", 1e6 / r2.median), ("batch", Double(batch))]))
    BenchReport.print(results, json: options.json)
  }
}
