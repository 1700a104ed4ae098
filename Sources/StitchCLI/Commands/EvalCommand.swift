import ArgumentParser
import Foundation
import Stitch

/// `stitch eval`: evaluate a trained run, a behaviour policy or a uniformly random policy.
struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Evaluate a run's checkpoint, a behaviour policy, or a uniformly random policy (mean return, normalized score).",
    discussion: """
      Episodes run in parallel on all cores; episode i is reset with seed SEED + i, so results are reproducible.
      Example:
        stitch eval runs/td3bc/seed_0 --episodes 10
        stitch eval runs/td3bc/seed_0/checkpoint.safetensors --episodes 10
        stitch eval --policy pendulum-expert --episodes 100
        stitch eval --random --env Pendulum-v1 --episodes 100
      """)

  @Argument(help: "A run's seed folder (with config.json and checkpoint.safetensors), or a checkpoint file in one.") var runFolder: String?
  @Option(help: "A bundled behaviour policy name or a policy .safetensors file.") var policy: String?
  @Flag(help: "Evaluate a uniformly random policy (D4RL's REF_MIN protocol).") var random = false
  @Option(help: "Environment id (for --random, or to override the run's).") var env: String?
  @Option(help: "Number of episodes.") var episodes: Int = 10
  @Option(help: "Seed of the first episode.") var seed: UInt64 = 0
  @Flag(help: "Sample the policy's actions instead of acting deterministically.") var stochastic = false
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    BLAS.threads = 1
    guard episodes > 0 else { throw ValidationError("--episodes must be positive, got \(episodes)") }
    let result: EvaluationResult
    if random {
      guard let env else { throw ValidationError("--random needs --env") }
      let space = try EnvironmentRegistry.make(env).actionSpace
      result = try PolicyEvaluation.run(env, episodes: episodes, seed: seed) { obs in
        // A per-observation stream keeps the random policy reproducible under parallel episodes.
        var rng = RandomStream(seed: UInt64(bitPattern: Int64(obs.reduce(0) { $0 &+ Int($1.bitPattern & 0xFFFF_FFFF) })))
        return space.low.indices.map { space.low[$0] + Double(rng.nextFloat()) * (space.high[$0] - space.low[$0]) }
      }
    } else if let policy {
      let p = policy.hasSuffix(".safetensors") ? try BehaviourPolicy.load(URL(fileURLWithPath: policy)) : try BehaviourPolicy.bundled(policy)
      try RunEvaluation.checkWidths(observations: p.actor.inputSize, actions: p.scaling.low.count, environment: env ?? p.task,
                                    what: "policy \(policy) (\(p.task))")
      let shared = SharedPolicy(p)
      let explore = stochastic
      result = try PolicyEvaluation.run(env ?? p.task, episodes: episodes, seed: seed) { obs in
        var rng = RandomStream(seed: UInt64(bitPattern: Int64(obs.reduce(0) { $0 &+ Int($1.bitPattern & 0xFFFF_FFFF) })))
        return shared.policy.act(obs, exploring: explore, rng: &rng)
      }
    } else if let runFolder {
      result = try RunEvaluation.evaluate(path: URL(fileURLWithPath: runFolder), environment: env, episodes: episodes, seed: seed)
    } else {
      throw ValidationError("give a run folder, --policy NAME, or --random --env ID")
    }
    let score = result.normalizedScore
    if json {
      print(JSONText.object([
        ("environment", .string(result.task)), ("episodes", .integer(result.returns.count)),
        ("return_mean", .number(result.meanReturn)), ("return_std", .number(result.returnStd)),
        ("normalized_score", score.map(JSONText.number) ?? .null), ("returns", .array(result.returns.map { .number($0) })),
      ]))
    } else {
      print(String(format: "%@: %d episodes, return %.2f ± %.2f", result.task, result.returns.count, result.meanReturn, result.returnStd)
        + (score.map { String(format: ", normalized score %.1f", $0) } ?? " (no reference scores for a normalized score)"))
    }
  }
}

final class SharedPolicy: @unchecked Sendable {
  let policy: BehaviourPolicy
  init(_ p: BehaviourPolicy) { policy = p }
}

/// Rebuilds a trained agent from a run folder and evaluates it.
enum RunEvaluation {
  struct Visitor: AlgorithmVisitor {
    let folder: URL, checkpoint: URL, environment: String?, episodes: Int, seed: UInt64
    func visit<A: Algorithm>(_ type: A.Type) throws -> EvaluationResult {
      let trainer = try OfflineTrainer<A>.load(from: folder)
      guard FileManager.default.fileExists(atPath: checkpoint.path) else {
        throw ValidationError("\(checkpoint.path) does not exist: the run has not written its first checkpoint yet (--checkpoint-every)")
      }
      let c = try Checkpoint.read(from: checkpoint)
      let decoder = JSONDecoder()
      let normalizer = try decoder.decode(ObservationNormalizer.self, from: Data((c.metadata["normalizer"] ?? "").utf8))
      let scaling = try decoder.decode(ActionScaling.self, from: Data((c.metadata["action_scaling"] ?? "").utf8))
      let env = environment ?? trainer.options.environment
      try checkWidths(observations: normalizer.mean.count, actions: scaling.low.count, environment: env,
                      what: "the run in \(folder.path) (\(trainer.options.environment))")
      let task = TaskSpec(id: env, observationDim: normalizer.mean.count, actionDim: scaling.low.count)
      var agent = A(configuration: trainer.configuration, task: task, rng: RandomStream(seed: 0))
      try agent.restore(from: c)
      let shared = SharedAgent(agent)
      return try PolicyEvaluation.run(env, episodes: episodes, seed: seed) { obs in
        var unused = RandomStream(seed: 0)
        return scaling.toEnvironment(shared.agent.act(Tensor(shape: [1, obs.count], scalars: normalizer(obs)), exploring: false, rng: &unused).scalars)
      }
    }
  }

  /// Refuses to run a policy in an environment of other widths (it would fail inside its first product).
  static func checkWidths(observations: Int, actions: Int, environment: String, what: String) throws {
    let env = try EnvironmentRegistry.make(environment)
    guard env.observationSpace.size == observations, env.actionSpace.size == actions else {
      throw ValidationError("\(what) takes \(observations)-wide observations and gives \(actions)-wide actions; \(environment) has \(env.observationSpace.size) and \(env.actionSpace.size)")
    }
  }

  /// Evaluates the run whose seed folder is `path`, or whose checkpoint file `path` is (its folder holds the
  /// config.json that says how to rebuild the agent).
  static func evaluate(path: URL, environment: String?, episodes: Int, seed: UInt64) throws -> EvaluationResult {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isFolder) else {
      throw ValidationError("\(path.path): no such run folder or checkpoint")
    }
    let folder = isFolder.boolValue ? path : path.deletingLastPathComponent()
    let checkpoint = isFolder.boolValue ? path.appendingPathComponent("checkpoint.safetensors") : path
    guard let id = RunFolderIdentity.read(folder)?.algorithm, let type = AlgorithmRegistry.named(id) else {
      throw ValidationError("\(folder.path) is not a Stitch run folder (no readable config.json naming an algorithm)")
    }
    return try withAlgorithm(type, Visitor(folder: folder, checkpoint: checkpoint, environment: environment, episodes: episodes, seed: seed))
  }
}

final class SharedAgent<A: Algorithm>: @unchecked Sendable {
  let agent: A
  init(_ a: A) { agent = a }
}
