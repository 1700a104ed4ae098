import Foundation
import StitchData
import StitchNN

import StitchTensor

/// A trained dynamics ensemble as a safetensors file: the parameters under their names (`net.{i}.weight`,
/// `net.{i}.bias`, `max_logvar`, `min_logvar`), the scaler as `input_mean`/`input_std`, and metadata: `task` (the
/// environment id), `observation_dim`, `action_dim`, `members`, `elites`, `hidden_sizes`, `weight_decays`,
/// `holdout_mse` (per member), `actions` ("normalized": in [−1, 1]), plus what the writer adds (dataset, epochs).
public enum DynamicsModelFile {
  public static func write(_ model: DynamicsEnsemble, task: String, metadata extra: [String: String] = [:], to url: URL) throws {
    var c = Checkpoint()
    c.store(model, as: "")
    c.tensors["input_mean"] = Tensor(shape: [model.inputDim], scalars: model.inputMean)
    c.tensors["input_std"] = Tensor(shape: [model.inputDim], scalars: model.inputStd)
    c.metadata = extra
    c.metadata["format"] = "stitch-dynamics-ensemble"
    c.metadata["task"] = task
    c.metadata["observation_dim"] = String(model.observationDim)
    c.metadata["action_dim"] = String(model.actionDim)
    c.metadata["members"] = String(model.members)
    c.metadata["elites"] = model.elites.map(String.init).joined(separator: ",")
    c.metadata["hidden_sizes"] = model.hiddenSizes.map(String.init).joined(separator: ",")
    c.metadata["weight_decays"] = model.weightDecays.map { String($0) }.joined(separator: ",")
    c.metadata["actions"] = "normalized"
    c.metadata["stitch_version"] = StitchVersion.string
    try c.write(to: url)
  }

  /// Reads a model file.
  /// - Parameters:
  ///   - expectedTask: when given, the file must be a model of that environment.
  ///   - observationDim, actionDim: when given, the widths the model must have.
  /// - Throws: `DynamicsError` naming the file and what is wrong (not a model file, another task's widths,
  ///   malformed metadata, parameters of the wrong shape or not finite).
  public static func read(_ url: URL, expectedTask: String? = nil, observationDim: Int? = nil, actionDim: Int? = nil) throws -> (DynamicsEnsemble, metadata: [String: String]) {
    let c: Checkpoint
    do { c = try Checkpoint.read(from: url) } catch { throw DynamicsError("\(url.path): not a readable dynamics model (\(error))") }
    func fail(_ problem: String) -> DynamicsError { DynamicsError("\(url.path): \(problem)") }
    guard c.metadata["format"] == "stitch-dynamics-ensemble" else { throw fail("not a dynamics model written by `stitch dynamics train` (no format = stitch-dynamics-ensemble)") }
    func integer(_ key: String) throws -> Int {
      guard let v = c.metadata[key].flatMap({ Int($0) }), v > 0 else { throw fail("metadata '\(key)' = '\(c.metadata[key] ?? "")' is not a positive integer") }
      return v
    }
    func list<T>(_ key: String, _ parse: (Substring) -> T?) throws -> [T] {
      let text = c.metadata[key] ?? ""
      let parts = text.split(separator: ",")
      let values = parts.compactMap(parse)
      guard !parts.isEmpty, values.count == parts.count else { throw fail("metadata '\(key)' = '\(text)' is not a comma-separated list") }
      return values
    }
    let od = try integer("observation_dim"), ad = try integer("action_dim"), members = try integer("members")
    let task = c.metadata["task"] ?? "?"
    if let expectedTask, task != expectedTask {
      throw fail("a dynamics model of \(task), not of \(expectedTask)")
    }
    if let observationDim, let actionDim, observationDim != od || actionDim != ad {
      throw fail("the model predicts \(od)-wide observations from \(ad)-wide actions (\(task)); this run's task has \(observationDim) and \(actionDim)")
    }
    let hidden = try list("hidden_sizes") { Int($0) }, decays = try list("weight_decays") { Float($0) }
    let elites = try list("elites") { Int($0) }
    guard hidden.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }), members <= 1024, decays.count == hidden.count + 1 else {
      throw fail("metadata hidden_sizes \(hidden), members \(members) and weight_decays (\(decays.count)) do not describe an ensemble")
    }
    guard !elites.isEmpty, elites.allSatisfy({ (0..<members).contains($0) }), Set(elites).count == elites.count else {
      throw fail("metadata elites \(elites) are not distinct members of 0..<\(members)")
    }
    // The parameters the metadata implies must be what the file holds, checked before anything is allocated.
    let sizes = [od + ad] + hidden + [2 * (od + 1)]
    for i in 0..<(sizes.count - 1) {
      guard c.tensors["net.\(i).weight"]?.shape == [members, sizes[i + 1], sizes[i]], c.tensors["net.\(i).bias"]?.shape == [members, sizes[i + 1]] else {
        throw fail("layer \(i) is missing or not shaped [\(members), \(sizes[i + 1]), \(sizes[i])] as the metadata implies")
      }
    }
    var rng = RandomStream(seed: 0)
    var model = DynamicsEnsemble(members: members, observationDim: od, actionDim: ad, hiddenSizes: hidden, weightDecays: decays, rng: &rng)
    do { try c.restore(&model, from: "") } catch { throw fail("\(error)") }
    guard let mean = c.tensors["input_mean"], let std = c.tensors["input_std"], mean.shape == [od + ad], std.shape == [od + ad] else {
      throw fail("input_mean/input_std missing or not [\(od + ad)]")
    }
    model.inputMean = mean.scalars
    model.inputStd = std.scalars
    model.elites = elites
    var problem: String? = nil
    model.visitParameters("") { name, t in if problem == nil, !t.scalars.allSatisfy(\.isFinite) { problem = name } }
    if problem == nil, !(model.inputMean + model.inputStd).allSatisfy(\.isFinite) || model.inputStd.contains(where: { $0 <= 0 }) { problem = "input_std/input_mean" }
    if let problem { throw fail("'\(problem)' holds NaN, infinite or non-positive values") }
    return (model, c.metadata)
  }
}
