import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// Makes datasets the way D4RL did (Fu et al. 2020, §4 and `scripts/generation/mujoco/collect_data.py`): roll out
/// a behaviour policy — sampling its stochastic actions — and record every transition; `terminals` mark
/// environment terminations, `timeouts` the time-limit cut; an episode cut by the dataset size is marked as a
/// timeout too (it did not terminate).
///
/// Kinds: `random` (uniform actions), `medium` and `expert` (bundled SAC policies), `medium-expert` (the
/// concatenation of a medium and an expert dataset of the given size each, as D4RL). `medium-replay` is cut from
/// the replay buffer of the medium policy's training run (`mediumReplay(_:run:until:)`).
public enum DatasetMaker {
  /// Errors making datasets.
  public enum MakeError: Error, CustomStringConvertible {
    case badName(String)
    public var description: String {
      switch self { case .badName(let s): return s }
    }
  }

  /// Splits "pendulum-medium" into the task family and the kind; a trailing "-vN" (e.g. "hopper-medium-v1")
  /// names an earlier bundled policy generation and is kept on the kind's policy name (`policyName`).
  public static func parse(_ name: String) throws -> (family: String, kind: String) {
    let (base, _) = splitVersion(name)
    for kind in ["medium-expert", "medium-replay", "random", "medium", "expert"] where base.hasSuffix("-" + kind) {
      return (String(base.dropLast(kind.count + 1)), kind)
    }
    // A typo in the kind ("hopper-mediun") gets the nearest valid name.
    let kinds = ["random", "medium", "expert", "medium-expert", "medium-replay"]
    var hint = ""
    if let dash = base.firstIndex(of: "-") {
      let family = base[..<dash], kind = String(base[base.index(after: dash)...])
      if let near = ConfigResolver.closest(to: kind, in: kinds) { hint = " Did you mean '\(family)-\(near)'?" }
    }
    throw MakeError.badName("'\(name)' is not TASK-KIND with KIND in \(kinds.joined(separator: ", ")) (e.g. pendulum-medium).\(hint)")
  }

  /// "hopper-medium-v1" → ("hopper-medium", 1); "hopper-medium" → ("hopper-medium", nil).
  public static func splitVersion(_ name: String) -> (base: String, version: Int?) {
    guard let dash = name.lastIndex(of: "-") else { return (name, nil) }
    let tail = name[name.index(after: dash)...]
    guard tail.count >= 2, tail.first == "v", let v = Int(tail.dropFirst()), v >= 0 else { return (name, nil) }
    return (String(name[..<dash]), v)
  }

  /// The bundled policy a dataset name rolls out for `kind`: without a version, the current one; with "-vN",
  /// generation N: the file bundled as "TASK-KIND-vN" when a later generation replaced it, else the current
  /// file if it is of that generation (metadata "generation", 1 when absent). Earlier generations stay
  /// bundled so earlier results stay reproducible (docs/datasets.md).
  /// - Throws: when no bundled policy of that generation exists.
  public static func bundledPolicy(_ name: String, family: String, kind: String) throws -> BehaviourPolicy {
    let base = "\(family)-\(kind)"
    guard let v = splitVersion(name).version else { return try BehaviourPolicy.bundled(base) }
    if BehaviourPolicy.bundledNames.contains("\(base)-v\(v)") { return try BehaviourPolicy.bundled("\(base)-v\(v)") }
    let current = try BehaviourPolicy.bundled(base)
    let generation = Int(current.metadata["generation"] ?? "1") ?? 1
    guard generation == v else {
      throw MakeError.badName("no bundled \(base) policy of generation \(v) (the current one is generation \(generation)); bundled: \(BehaviourPolicy.bundledNames.joined(separator: ", "))")
    }
    return current
  }

  /// The Gymnasium id of a task family Stitch can make data for.
  public static func environment(for family: String) throws -> String {
    // MuJoCo families roll out in the v4 tasks: D4RL's v2 datasets came from the v3 environments, whose dynamics
    // and rewards v4 keeps (Gymnasium's v4 only moved to the `mujoco` bindings).
    let known = ["pendulum": "Pendulum-v1", "mountaincarcontinuous": "MountainCarContinuous-v0", "hopper": "Hopper-v4",
                 "halfcheetah": "HalfCheetah-v4", "walker2d": "Walker2d-v4", "ant": "Ant-v4",
                 "pointreach": "PointReach-v0"]
    guard let id = known[family.lowercased()] else {
      throw MakeError.badName("no dataset recipe for '\(family)'; available: \(known.keys.sorted().joined(separator: ", "))")
    }
    return id
  }

  /// Makes the dataset `name` ("pendulum-medium") with `size` transitions from `seed`.
  /// - Parameter policy: a behaviour policy to roll out instead of the bundled one (medium or expert only), e.g. a
  ///   SAC snapshot chosen by `stitch policy select`; it must act in the task's environment.
  public static func make(_ name: String, size: Int, seed: UInt64, policy: BehaviourPolicy? = nil,
                          progress: ((Int) -> Void)? = nil) throws -> Dataset {
    let (family, kind) = try parse(name)
    let envID = try environment(for: family)
    if let policy {
      guard kind == "medium" || kind == "expert" else {
        throw MakeError.badName("a chosen policy makes TASK-medium or TASK-expert; \(name) is \(kind)")
      }
      guard policy.task == envID else { throw MakeError.badName("the policy acts in \(policy.task); \(name) rolls out in \(envID)") }
      return try rollout(envID, policy: policy, size: size, seed: seed, name: name, progress: progress)
    }
    switch kind {
    case "random": return try rollout(envID, policy: nil, size: size, seed: seed, name: name, progress: progress)
    case "medium", "expert":
      return try rollout(envID, policy: try bundledPolicy(name, family: family, kind: kind), size: size, seed: seed,
                         name: name, progress: progress)
    case "medium-expert":
      let v = splitVersion(name).version.map { "-v\($0)" } ?? ""
      var a = try make("\(family)-medium\(v)", size: size, seed: seed, progress: progress)
      let b = try make("\(family)-expert\(v)", size: size, seed: seed &+ 1, progress: progress)
      a.observations += b.observations; a.actions += b.actions; a.rewards += b.rewards
      a.nextObservations += b.nextObservations; a.terminals += b.terminals; a.timeouts += b.timeouts
      for key in a.infos.keys { if let extra = b.infos[key] { a.infos[key]!.values += extra.values } else { a.infos[key] = nil } }
      a.metadata["dataset"] = name
      a.metadata["policy"] = "\(family)-medium\(v) + \(family)-expert\(v)"
      return a
    default:
      throw MakeError.badName("\(kind) datasets are cut from a SAC run's replay buffer: stitch dataset make \(name) --from-run RUN/seed_0 --until STEP")
    }
  }

  /// D4RL's medium-replay (Fu et al. 2020, §5): every transition SAC saw while training up to the medium policy,
  /// i.e. the first `until` rows of the replay buffer saved in an online run's checkpoint (`stitch train --algo
  /// sac`, which stores the buffer for exact resume), with actions mapped back to the environment's range. The
  /// last row, when the cut falls inside an episode, is marked as a timeout (the episode did not terminate).
  /// - Throws: when the run is not a SAC run on the task's environment, has not reached `until` steps, or its
  ///   buffer has wrapped (its first transitions are gone).
  public static func mediumReplay(_ name: String, run folder: URL, until: Int) throws -> Dataset {
    let (family, kind) = try parse(name)
    guard kind == "medium-replay" else { throw MakeError.badName("'\(name)' is not a medium-replay dataset") }
    let envID = try environment(for: family)
    let trainer = try OnlineTrainer<SAC>.load(from: folder)
    guard trainer.options.environment == envID else {
      throw MakeError.badName("\(folder.path) trained on \(trainer.options.environment), not \(envID)")
    }
    let c = try Checkpoint.read(from: folder.appendingPathComponent("checkpoint.safetensors"))
    let buffer = try OnlineTrainer<SAC>.replayBuffer(from: c, capacity: trainer.options.replayCapacity)
    guard buffer.added == buffer.count else {
      throw MakeError.badName("the replay buffer of \(folder.path) has wrapped (\(buffer.added) added, capacity \(buffer.capacity)): its first transitions are gone")
    }
    guard until > 0, until <= buffer.count else {
      throw MakeError.badName("--until \(until): the run's buffer holds \(buffer.count) transitions (the run reached step \(buffer.count))")
    }
    let env = try EnvironmentRegistry.make(envID)
    let scaling = ActionScaling(low: env.actionSpace.low, high: env.actionSpace.high)
    let b = buffer.storage, od = b.observationDim, ad = b.actionDim
    var ds = Dataset(observationDim: od, actionDim: ad)
    for i in 0..<until {
      let action = scaling.toEnvironment(Array(b.actions[i * ad ..< (i + 1) * ad])).map(Float.init)
      ds.append(observation: Array(b.observations[i * od ..< (i + 1) * od]), action: action, reward: b.rewards[i],
                nextObservation: Array(b.nextObservations[i * od ..< (i + 1) * od]), terminal: b.terminals[i],
                timeout: b.timeouts[i] || (i == until - 1 && !b.terminals[i]))
    }
    ds.metadata = [
      "dataset": name, "environment": envID, "policy": "SAC replay buffer, steps 1-\(until)", "run": folder.path,
      "seed": String(trainer.options.seed), "stitch_version": StitchVersion.string, "algorithm": "SAC",
    ]
    return ds
  }

  /// - Parameter meanActions: roll out the policy's mean action (tanh of the Gaussian's mean) instead of sampling:
  ///   not D4RL's protocol, a diagnostic of how much of a dataset's spread is the policy's noise.
  static func rollout(_ envID: String, policy: BehaviourPolicy?, size: Int, seed: UInt64, name: String, meanActions: Bool = false,
                      progress: ((Int) -> Void)?) throws -> Dataset {
    var env = try EnvironmentRegistry.make(envID)
    let root = RandomStream(seed: seed)
    var actions = root.child(named: "actions")
    let resets = root.child(named: "env")
    var ds = Dataset(observationDim: env.observationSpace.size, actionDim: env.actionSpace.size)
    // D4RL's infos: the simulator state before each step (MuJoCo tasks) and the behaviour policy's log-density
    // of the action (a uniform random action's is −Σ log(high − low)).
    let settable = env as? any SimulatorStateSettable
    let widths = settable.map { (qpos: $0.simulatorState.qpos.count, qvel: $0.simulatorState.qvel.count) }
    if let widths {
      ds.infos["qpos"] = Dataset.InfoColumn(width: widths.qpos)
      if widths.qvel > 0 { ds.infos["qvel"] = Dataset.InfoColumn(width: widths.qvel) }
    }
    ds.infos["action_log_probs"] = Dataset.InfoColumn(width: 1)
    let uniformLogDensity = -zip(env.actionSpace.low, env.actionSpace.high).reduce(0.0) { $0 + log($1.1 - $1.0) }
    var episode = 0
    func resetSeed() -> UInt64 { var s = resets.split(UInt64(episode)); return s.next() }
    var obs = try env.reset(seed: resetSeed()).observation
    while ds.count < size {
      let a: [Double], logProbability: Double
      if let policy { (a, logProbability) = try policy.actWithLogProbability(obs, exploring: !meanActions, rng: &actions) } else {
        a = env.actionSpace.low.indices.map { i in
          env.actionSpace.low[i] + Double(actions.nextFloat()) * (env.actionSpace.high[i] - env.actionSpace.low[i])
        }
        logProbability = uniformLogDensity
      }
      if let widths, let state = (env as? any SimulatorStateSettable)?.simulatorState {
        ds.infos["qpos"]!.values += state.qpos.map(Float.init)
        if widths.qvel > 0 { ds.infos["qvel"]!.values += state.qvel.map(Float.init) }
      }
      ds.infos["action_log_probs"]!.values.append(Float(logProbability))
      let s = try env.step(a)
      let cut = ds.count + 1 == size && !s.terminated
      ds.append(observation: obs.map(Float.init), action: a.map(Float.init), reward: Float(s.reward),
                nextObservation: s.observation.map(Float.init), terminal: s.terminated, timeout: s.truncated || cut)
      obs = s.observation
      if s.terminated || s.truncated {
        episode += 1
        obs = try env.reset(seed: resetSeed()).observation
      }
      if ds.count % 1000 == 0 { progress?(ds.count) }
    }
    ds.metadata = [
      "dataset": name, "environment": envID, "policy": policy.map { "\($0.task)-\($0.kind)" } ?? "uniform random",
      "seed": String(seed), "stitch_version": StitchVersion.string, "algorithm": policy == nil ? "random" : "SAC",
    ]
    return ds
  }
}
