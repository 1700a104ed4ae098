import ArgumentParser
import Foundation

import Stitch

/// `stitch dynamics`: learned dynamics ensembles for model-based agents (MBPO, MOPO, RAVL).
struct DynamicsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dynamics",
    abstract: "Train and evaluate the dynamics ensembles that model-based agents (mbpo, mopo, ravl) roll out in.",
    discussion: """
      Example:
        stitch dynamics train --dataset data/hopper-medium.hdf5 --env Hopper-v4 -o runs/hopper-medium-dynamics.safetensors --max-epochs 20
        stitch dynamics eval runs/hopper-medium-dynamics.safetensors --dataset data/hopper-medium.hdf5
        stitch train --algo mopo --preset hopper-medium --dataset data/hopper-medium.hdf5 --env Hopper-v4 --set dynamics_model=runs/hopper-medium-dynamics.safetensors
      """,
    subcommands: [DynamicsTrain.self, DynamicsEval.self])
}

/// Loads a dataset for dynamics work with actions mapped into [−1, 1] (the units agents act in).
private func loadForDynamics(_ path: String, env: String) throws -> (Dataset, ActionScaling) {
  let e = try EnvironmentRegistry.make(env)
  var options = LoadOptions()
  options.expectedObservationDim = e.observationSpace.size
  options.expectedActionDim = e.actionSpace.size
  var (ds, _) = try DatasetFile.read(path, options: options)
  let scaling = ActionScaling(low: e.actionSpace.low, high: e.actionSpace.high)
  ds.transformActions(scaling.normalize)
  return (ds, scaling)
}

struct DynamicsTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a probabilistic dynamics ensemble (7 members, 5 elites, 4 × 200 SiLU) on a dataset.",
    discussion: """
      As OfflineRL-Kit's EnsembleDynamics (docs/model-based.md): inputs [s, a] standardised, Gaussian heads for
      [s' - s, r] with learnable log-variance bounds, per-layer weight decay, a bootstrap sample per member, a
      holdout of min(20%, --holdout-cap) rows, early stopping when no member improves its holdout MSE by more than
      1% for 5 epochs (or at --max-epochs), elites = lowest holdout MSE. Ctrl-C stops after the current epoch and
      saves the best weights so far. Progress: one bar per epoch with its ETA, one line per finished epoch.
      Example:
        stitch dynamics train --dataset data/hopper-medium.hdf5 --env Hopper-v4 -o hopper-dynamics.safetensors --max-epochs 20
      """)

  @Option(help: "A D4RL-layout .hdf5 file or a Minari dataset folder.") var dataset: String
  @Option(help: "Environment id (widths, action bounds, and the task the model is for).") var env: String
  @Option(name: [.short, .customLong("out")], help: "Output model file (.safetensors).") var out: String
  @Option(help: "Random seed (split, bootstrap, initialisation).") var seed: UInt64 = 0
  @Option(help: "Stop after this many epochs even if the holdout still improves (CPU budgets).") var maxEpochs: Int?
  @Option(help: "Ensemble members.") var members = 7
  @Option(help: "Elite members used in rollouts.") var elites = 5
  @Option(help: "Hidden layer sizes, comma-separated.") var hiddenSizes = "200,200,200,200"
  @Option(help: "Minibatch size per member.") var batchSize = 256
  @Option(help: "Adam learning rate.") var learningRate: Float = 1e-3
  @Option(help: "Largest holdout (OfflineRL-Kit: 1000); 0 for an uncapped 20% as the edge-of-reach code.") var holdoutCap = 1000
  @Option(help: "Product lanes (threads) for the matrix products.") var lanes = 1
  @Flag(help: "Print the training report as JSON on standard output.") var json = false

  func run() throws {
    var c = DynamicsTrainingConfiguration()
    c.members = members
    c.elites = elites
    let sizes = hiddenSizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil }) else { throw ValidationError("--hidden-sizes must be comma-separated integers, got '\(hiddenSizes)'") }
    c.hiddenSizes = sizes.map { $0! }
    if c.hiddenSizes.count + 1 != c.weightDecays.count {
      // OfflineRL-Kit's decays are for 4 hidden layers; other depths repeat the last hidden decay.
      c.weightDecays = (0..<c.hiddenSizes.count).map { i in DynamicsEnsemble.defaultWeightDecays[Swift.min(i, 3)] } + [1e-4]
    }
    c.batchSize = batchSize
    c.learningRate = learningRate
    c.holdoutCap = holdoutCap
    c.maxEpochs = maxEpochs
    if let problem = c.problems.first { throw ValidationError(problem) }
    guard lanes >= 1 && lanes <= 2 else { throw ValidationError("--lanes must be 1 or 2, got \(lanes)") }
    guard out.hasSuffix(".safetensors") else { throw ValidationError("--out must end in .safetensors, got \(out)") }
    let (ds, _) = try loadForDynamics(dataset, env: env)
    BLAS.threads = 1
    ProductLanes.current = lanes
    StopSignal.install()
    var reporter: ProgressReporter? = nil
    let (model, report) = try DynamicsTraining.train(ds, configuration: c, seed: seed, shouldStop: { StopSignal.isRequested },
      batchProgress: { epoch, batch, batches in
        if batch == 1 { reporter = ProgressReporter(label: "dynamics epoch \(epoch)\(maxEpochs.map { " of at most \($0)" } ?? "")", total: batches, unit: "minibatches") }
        reporter?.update(batch)
      },
      progress: { e in
        reporter?.finish(note: String(format: "train loss %.4f, elite holdout MSE %.5f", e.trainLoss, e.eliteHoldoutMSE))
        reporter = nil
      })
    var meta: [String: String] = ["dataset": dataset, "dataset_rows": String(ds.count), "dataset_hash": DatasetIdentity(ds, path: dataset).hash,
                                  "seed": String(seed), "epochs": String(report.epochs.count), "stop_reason": report.stopReason,
                                  "holdout_mse": report.bestHoldoutMSE.map { String($0) }.joined(separator: ","),
                                  "train_rows": String(report.trainRows), "seconds": String(format: "%.1f", report.seconds),
                                  "configuration": try Checkpoint.json(c)]
    meta["holdout_rows"] = report.holdoutRowIndices.map(String.init).joined(separator: ",")
    try DynamicsModelFile.write(model, task: env, metadata: meta, to: URL(fileURLWithPath: out))
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
      return
    }
    print("wrote \(out): \(model.members) members, elites \(model.elites.map(String.init).joined(separator: ",")), \(report.epochs.count) epochs (\(report.stopReason)), \(String(format: "%.0f", report.seconds)) s")
    print("holdout (\(report.holdoutRows) rows) MSE per member: " + report.bestHoldoutMSE.map { String(format: "%.5f", $0) }.joined(separator: " "))
  }
}

struct DynamicsEval: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Per-dimension holdout MSE and NLL of a dynamics model, and its k-step open-loop error against the simulator.",
    discussion: """
      One-step errors are on the training holdout when the dataset is the one the model was trained on (same rows
      and hash), else on every row. The open-loop error rolls the elites' mean prediction k = 1..H steps on the
      dataset's actions from --starts start rows, against the simulator set to the rows' infos/qpos, infos/qvel
      (or the dataset's own successors where the file has no simulator states), beside the "no change" baseline.
      With --json: one object with rows, rows_are_holdout, mse and nll (per dimension, observation dims then
      reward), open_loop (k, model, no_change, starts) and truth.
      Example:
        stitch dynamics eval hopper-dynamics.safetensors --dataset data/hopper-medium.hdf5 --horizon 10
      """)

  @Argument(help: "A model file from `stitch dynamics train`.") var model: String
  @Option(help: "A D4RL-layout .hdf5 file or a Minari dataset folder.") var dataset: String
  @Option(help: "Environment id (default: the model's task).") var env: String?
  @Option(help: "H: the longest open-loop horizon.") var horizon = 10
  @Option(help: "Start rows for the open-loop error.") var starts = 200
  @Option(help: "Seed of the start rows.") var seed: UInt64 = 0
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    guard horizon >= 1 else { throw ValidationError("--horizon must be at least 1, got \(horizon)") }
    guard starts >= 1 else { throw ValidationError("--starts must be at least 1, got \(starts)") }
    let (_, peek) = try DynamicsModelFile.read(URL(fileURLWithPath: model))
    let task = env ?? peek["task"] ?? ""
    let (ds, scaling) = try loadForDynamics(dataset, env: task)
    let (m, meta) = try DynamicsModelFile.read(URL(fileURLWithPath: model), expectedTask: task, observationDim: ds.observationDim, actionDim: ds.actionDim)
    var holdout: [Int]? = nil
    if meta["dataset_rows"] == String(ds.count), meta["dataset_hash"] == DatasetIdentity(ds, path: dataset).hash,
       let rows = meta["holdout_rows"]?.split(separator: ",").compactMap({ Int($0) }), !rows.isEmpty, rows.allSatisfy({ $0 < ds.count }) {
      holdout = rows
    }
    let e = try DynamicsEvaluation.evaluate(m, dataset: ds, environment: task, scaling: scaling, holdout: holdout,
                                            horizon: horizon, starts: starts, seed: seed)
    if json {
      print(JSONText.object([
        ("model", .string(model)), ("dataset", .string(dataset)), ("rows", .integer(e.rows)), ("rows_are_holdout", .bool(e.rowsAreHoldout)),
        ("mse", .array(e.mse.map(JSONText.number))), ("nll", .array(e.nll.map(JSONText.number))),
        ("open_loop", .array(e.openLoop.map { .object([("k", .integer($0.k)), ("model", .number($0.model)), ("no_change", .number($0.noChange)), ("starts", .integer($0.starts))]) })),
        ("truth", .string(e.truth)),
      ]))
      return
    }
    print("model:     \(model) (\(task), \(m.members) members, elites \(m.elites.map(String.init).joined(separator: ",")))")
    print("rows:      \(e.rows) \(e.rowsAreHoldout ? "(the training holdout)" : "(every row: not the dataset the model was trained on)")")
    let names = (0..<m.observationDim).map { "s\($0)" } + ["r"]
    print("dim        " + names.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
    print("MSE        " + e.mse.map { String(format: "%-9.4f", $0) }.joined())
    print("NLL        " + e.nll.map { String(format: "%-9.3f", $0) }.joined())
    print("open loop against \(e.truth), \(e.openLoop.first?.starts ?? 0) starts (RMS over observation dims):")
    print("  k   model     no change")
    for row in e.openLoop { print(String(format: "  %-3d %-9.4f %-9.4f", row.k, row.model, row.noChange)) }
  }
}
