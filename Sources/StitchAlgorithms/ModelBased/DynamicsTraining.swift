import Foundation
import StitchData
import StitchNN

import StitchTensor

/// Training a `DynamicsEnsemble` on a dataset as OfflineRL-Kit's `EnsembleDynamics.train` does
/// (`offlinerlkit/dynamics/ensemble_dynamics.py`):
/// 1. inputs [s, a], targets [s′ − s, r] for every row; a random holdout of min(⌊ratio·N⌋, cap) rows
///    (OfflineRL-Kit: ratio 0.2, cap 1000; `holdout_cap = 0` gives the edge-of-reach code's uncapped 20%);
/// 2. the scaler fitted on the training rows, applied to training and holdout inputs;
/// 3. per member a bootstrap sample of the training rows (N_train indices drawn with replacement);
/// 4. each epoch: the members' index rows cut into minibatches of `batch_size` in order, one Adam step each on
///    the loss of `DynamicsEnsemble.loss`; then each member's holdout MSE; then every member's index row is
///    shuffled (`shuffle_rows`);
/// 5. a member whose holdout MSE improved by more than 1% relative to its best keeps these weights as its best;
///    training stops after `max_epochs_since_update` (5) epochs without any member improving, or at `max_epochs`;
/// 6. every member returns to its best weights; the elites are the `elites` members of lowest best holdout MSE.
public struct DynamicsTrainingConfiguration: Codable, Sendable, Equatable {
  public var members = 7
  public var elites = 5
  public var hiddenSizes = [200, 200, 200, 200]
  public var weightDecays = DynamicsEnsemble.defaultWeightDecays
  public var learningRate: Float = 1e-3
  public var batchSize = 256
  public var holdoutRatio = 0.2
  /// Largest holdout (OfflineRL-Kit: 1000); 0 for no cap.
  public var holdoutCap = 1000
  public var maxEpochsSinceUpdate = 5
  /// Stop after this many epochs even if the holdout still improves (nil: no limit); for CPU budgets.
  public var maxEpochs: Int? = nil
  /// c, weight of the log-variance bound terms.
  public var logVarianceCoefficient: Float = 0.01

  public init() {}

  /// Problems with the settings, as one-line messages (empty when sound).
  public var problems: [String] {
    var out: [String] = []
    if members < 1 { out.append("members must be at least 1, got \(members)") }
    if elites < 1 || elites > members { out.append("elites must lie in 1...\(members) (members), got \(elites)") }
    if hiddenSizes.isEmpty || hiddenSizes.contains(where: { $0 < 1 }) { out.append("hidden_sizes must be positive, got \(hiddenSizes)") }
    if weightDecays.count != hiddenSizes.count + 1 { out.append("weight_decays needs \(hiddenSizes.count + 1) values (one per layer), got \(weightDecays.count)") }
    if !(learningRate > 0 && learningRate.isFinite) { out.append("learning_rate must be a positive number, got \(learningRate)") }
    if batchSize < 1 { out.append("batch_size must be positive, got \(batchSize)") }
    if !(holdoutRatio > 0 && holdoutRatio < 1) { out.append("holdout_ratio must lie in (0, 1), got \(holdoutRatio)") }
    if holdoutCap < 0 { out.append("holdout_cap must be ≥ 0 (0: no cap), got \(holdoutCap)") }
    if maxEpochsSinceUpdate < 1 { out.append("max_epochs_since_update must be positive, got \(maxEpochsSinceUpdate)") }
    if let m = maxEpochs, m < 1 { out.append("max_epochs must be positive, got \(m)") }
    return out
  }
}

/// One epoch of dynamics training, for progress lines and the report.
public struct DynamicsEpoch: Codable, Sendable {
  public var epoch: Int
  public var trainLoss: Double
  /// Each member's holdout MSE after the epoch.
  public var holdoutMSE: [Double]
  /// Mean of the `elites` lowest best-so-far holdout MSEs.
  public var eliteHoldoutMSE: Double
  public var seconds: Double
}

/// What training did: epochs, why it stopped, the holdout.
public struct DynamicsTrainingReport: Codable, Sendable {
  public var epochs: [DynamicsEpoch]
  public var stopReason: String
  public var trainRows: Int
  public var holdoutRows: Int
  /// The dataset rows held out (for `stitch dynamics eval` on the same file).
  public var holdoutRowIndices: [Int]
  /// Each member's best holdout MSE (the weights it ends with).
  public var bestHoldoutMSE: [Double]
  public var elites: [Int]
  public var seconds: Double
}

/// Errors of dynamics training and model files.
public struct DynamicsError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

public enum DynamicsTraining {
  /// Inputs [s, a] and targets [s′ − s, r] of every row, row-major.
  public static func inputsAndTargets(_ ds: Dataset) -> (inputs: [Float], targets: [Float]) {
    let od = ds.observationDim, ad = ds.actionDim, n = ds.count
    var inputs = [Float](repeating: 0, count: n * (od + ad)), targets = [Float](repeating: 0, count: n * (od + 1))
    for i in 0..<n {
      for k in 0..<od {
        inputs[i * (od + ad) + k] = ds.observations[i * od + k]
        targets[i * (od + 1) + k] = ds.nextObservations[i * od + k] - ds.observations[i * od + k]
      }
      for k in 0..<ad { inputs[i * (od + ad) + od + k] = ds.actions[i * ad + k] }
      targets[i * (od + 1) + od] = ds.rewards[i]
    }
    return (inputs, targets)
  }

  /// The holdout split: a random permutation's first `holdout` rows are the holdout, the rest train.
  public static func split(rows n: Int, configuration c: DynamicsTrainingConfiguration, rng: inout RandomStream) -> (train: [Int], holdout: [Int]) {
    var size = Int(Double(n) * c.holdoutRatio)
    if c.holdoutCap > 0 { size = Swift.min(size, c.holdoutCap) }
    size = Swift.min(Swift.max(size, 1), n - 1)
    var order = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
    return (Array(order[size...]), Array(order[..<size]))
  }

  /// Trains an ensemble on `ds` (actions as the agent will see them, in [−1, 1]).
  /// - Parameter progress: called after every epoch.
  /// - Throws: `DynamicsError` for unsound settings, a dataset too small to split, or a loss that is not finite
  ///   (naming the epoch).
  public static func train(_ ds: Dataset, configuration c: DynamicsTrainingConfiguration, seed: UInt64,
                           shouldStop: () -> Bool = { false }, batchProgress: ((_ epoch: Int, _ batch: Int, _ batches: Int) -> Void)? = nil,
                           progress: ((DynamicsEpoch) -> Void)? = nil) throws -> (DynamicsEnsemble, DynamicsTrainingReport) {
    if let problem = c.problems.first { throw DynamicsError("dynamics settings: \(problem)") }
    guard ds.count >= 2 else { throw DynamicsError("a dynamics model needs at least 2 transitions to split off a holdout; the dataset has \(ds.count)") }
    let start = Date()
    let root = RandomStream(seed: seed)
    var initRNG = root.child(named: "init"), splitRNG = root.child(named: "split"), bootstrapRNG = root.child(named: "bootstrap")
    var model = DynamicsEnsemble(members: c.members, observationDim: ds.observationDim, actionDim: ds.actionDim,
                                 hiddenSizes: c.hiddenSizes, weightDecays: c.weightDecays, rng: &initRNG)
    let (inputs, targets) = inputsAndTargets(ds)
    let (trainRows, holdoutRows) = split(rows: ds.count, configuration: c, rng: &splitRNG)
    let iw = model.inputDim, tw = model.targetDim
    func gather(_ rows: [Int], _ source: [Float], _ width: Int) -> [Float] {
      var out = [Float](repeating: 0, count: rows.count * width)
      for (k, r) in rows.enumerated() { for j in 0..<width { out[k * width + j] = source[r * width + j] } }
      return out
    }
    let trainInputsRaw = gather(trainRows, inputs, iw), trainTargets = gather(trainRows, targets, tw)
    model.fitScaler(trainInputsRaw)
    func scaled(_ raw: [Float]) -> [Float] {
      var out = raw
      for i in 0..<out.count { let k = i % iw; out[i] = (out[i] - model.inputMean[k]) / model.inputStd[k] }
      return out
    }
    let trainInputs = scaled(trainInputsRaw)
    let holdoutInputs = Tensor(shape: [holdoutRows.count, iw], scalars: scaled(gather(holdoutRows, inputs, iw)))
    let holdoutTargets = Tensor(shape: [holdoutRows.count, tw], scalars: gather(holdoutRows, targets, tw))
    let nTrain = trainRows.count, e = c.members
    var indices = (0..<e).map { _ in (0..<nTrain).map { _ in bootstrapRNG.nextInt(below: nTrain) } }
    var optimizer = Adam(learningRate: c.learningRate)
    var best = model
    var bestLoss = [Double](repeating: 1e10, count: e)
    var epochs: [DynamicsEpoch] = []
    var sinceUpdate = 0
    var stopReason = ""
    var epoch = 0
    while true {
      epoch += 1
      let epochStart = Date()
      var lossSum = 0.0, batches = 0
      var batchStart = 0
      while batchStart < nTrain {
        let b = Swift.min(c.batchSize, nTrain - batchStart)
        var x = [Float](repeating: 0, count: e * b * iw), y = [Float](repeating: 0, count: e * b * tw)
        for m in 0..<e {
          for k in 0..<b {
            let r = indices[m][batchStart + k]
            for j in 0..<iw { x[(m * b + k) * iw + j] = trainInputs[r * iw + j] }
            for j in 0..<tw { y[(m * b + k) * tw + j] = trainTargets[r * tw + j] }
          }
        }
        let xt = Tensor(shape: [e, b, iw], scalars: x), yt = Tensor(shape: [e, b, tw], scalars: y)
        let (loss, grad) = try valueWithGradient(at: model) { m in
          m.loss(scaledInputs: xt, targets: yt, logVarianceCoefficient: c.logVarianceCoefficient)
        }
        guard loss.isFinite else {
          throw DynamicsError("the dynamics loss became \(loss) in epoch \(epoch), minibatch \(batches + 1): lower learning_rate or check the data for extreme values")
        }
        optimizer.update(&model, along: grad)
        lossSum += Double(loss)
        batches += 1
        batchStart += b
        batchProgress?(epoch, batches, (nTrain + c.batchSize - 1) / c.batchSize)
      }
      let mse = model.holdoutMSE(scaledInputs: holdoutInputs, targets: holdoutTargets)
      for m in 0..<e {
        for i in stride(from: nTrain - 1, to: 0, by: -1) { indices[m].swapAt(i, bootstrapRNG.nextInt(below: i + 1)) }
      }
      var improved: [Int] = []
      for m in 0..<e where (bestLoss[m] - mse[m]) / bestLoss[m] > 0.01 {
        improved.append(m)
        bestLoss[m] = mse[m]
      }
      if !improved.isEmpty {
        copyMembers(improved, from: model, into: &best)
        sinceUpdate = 0
      } else {
        sinceUpdate += 1
      }
      let eliteMSE = bestLoss.sorted().prefix(c.elites).reduce(0, +) / Double(c.elites)
      let record = DynamicsEpoch(epoch: epoch, trainLoss: lossSum / Double(Swift.max(batches, 1)), holdoutMSE: mse,
                                 eliteHoldoutMSE: eliteMSE, seconds: Date().timeIntervalSince(epochStart))
      epochs.append(record)
      progress?(record)
      if sinceUpdate >= c.maxEpochsSinceUpdate { stopReason = "no member improved its holdout MSE by more than 1% for \(c.maxEpochsSinceUpdate) epochs"; break }
      if let cap = c.maxEpochs, epoch >= cap { stopReason = "reached max_epochs = \(cap)"; break }
      if shouldStop() { stopReason = "stopped by request after epoch \(epoch)"; break }
    }
    copyMembers(Array(0..<e), from: best, into: &model)
    model.elites = Array((0..<e).sorted { bestLoss[$0] < bestLoss[$1] }.prefix(c.elites))
    let report = DynamicsTrainingReport(epochs: epochs, stopReason: stopReason, trainRows: nTrain, holdoutRows: holdoutRows.count,
                                        holdoutRowIndices: holdoutRows,
                                        bestHoldoutMSE: bestLoss, elites: model.elites, seconds: Date().timeIntervalSince(start))
    return (model, report)
  }

  /// Copies the layer weights of `members` from `source` into `target` (OfflineRL-Kit `update_save` and
  /// `load_save`: the members' own layers only; the shared log-variance bounds stay).
  static func copyMembers(_ members: [Int], from source: DynamicsEnsemble, into target: inout DynamicsEnsemble) {
    for l in target.network.layers.indices {
      let w = source.network.layers[l].weight.scalars, b = source.network.layers[l].bias.scalars
      var tw = target.network.layers[l].weight.scalars, tb = target.network.layers[l].bias.scalars
      let ws = w.count / source.members, bs = b.count / source.members
      for m in members {
        for j in 0..<ws { tw[m * ws + j] = w[m * ws + j] }
        for j in 0..<bs { tb[m * bs + j] = b[m * bs + j] }
      }
      target.network.layers[l].weight = Tensor(shape: target.network.layers[l].weight.shape, scalars: tw)
      target.network.layers[l].bias = Tensor(shape: target.network.layers[l].bias.shape, scalars: tb)
    }
  }
}
