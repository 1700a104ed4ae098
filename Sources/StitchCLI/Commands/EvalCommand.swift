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
      A run folder is evaluated by default as its trainer last evaluated it: with its --eval-episodes and its
      evaluation seed (offline runs: seed * 1000003 + 12345, online runs: seed + 999983), so the return matches the
      run's last logged eval_return; --episodes and --seed change either. The seeds used are printed.
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
  @Option(help: "Number of episodes (default: a run's own --eval-episodes; otherwise 10).") var episodes: Int?
  @Option(help: "Seed of the first episode (default: a run's own evaluation seed; otherwise 0).") var seed: UInt64?
  @Flag(help: "Sample the policy's actions instead of acting deterministically.") var stochastic = false
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    BLAS.threads = 1
    if let episodes, episodes <= 0 { throw ValidationError("--episodes must be positive, got \(episodes)") }
    if stochastic, policy == nil {
      throw ValidationError("--stochastic samples a behaviour policy's actions (--policy); a run is evaluated as its trainer evaluates it, deterministically, and --random is random already")
    }
    if [runFolder != nil, policy != nil, random].filter({ $0 }).count > 1 {
      throw ValidationError("give one of a run folder, --policy NAME and --random")
    }
    let result: EvaluationResult
    var firstSeed = seed ?? 0
    if random {
      guard let env else { throw ValidationError("--random needs --env") }
      let episodes = self.episodes ?? 10, seed = firstSeed
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
      let episodes = self.episodes ?? 10, seed = firstSeed
      let failure = FirstError()
      result = try PolicyEvaluation.run(env ?? p.task, episodes: episodes, seed: seed) { obs in
        var rng = RandomStream(seed: UInt64(bitPattern: Int64(obs.reduce(0) { $0 &+ Int($1.bitPattern & 0xFFFF_FFFF) })))
        do { return try shared.policy.act(obs, exploring: explore, rng: &rng) } catch {
          // The widths were checked above, so this is not expected; the episode ends on zeros and the error is thrown.
          failure.record(error)
          return shared.policy.scaling.low.map { _ in 0 }
        }
      }
      if let error = failure.error { throw error }
    } else if let runFolder {
      let evaluated = try RunEvaluation.evaluateAsTrained(path: URL(fileURLWithPath: runFolder), environment: env, episodes: episodes, seed: seed)
      result = evaluated.result
      firstSeed = evaluated.seed
    } else {
      throw ValidationError("give a run folder, --policy NAME, or --random --env ID")
    }
    let score = result.normalizedScore
    if json {
      print(JSONText.object([
        ("environment", .string(result.task)), ("episodes", .integer(result.returns.count)),
        ("return_mean", .number(result.meanReturn)), ("return_std", .number(result.returnStd)),
        ("normalized_score", score.map(JSONText.number) ?? .null), ("returns", .array(result.returns.map { .number($0) })),
        ("first_seed", .string(String(firstSeed))),
      ]))
    } else {
      print(String(format: "%@: %d episodes, return %.2f ± %.2f", result.task, result.returns.count, result.meanReturn, result.returnStd)
        + (score.map { String(format: ", normalized score %.1f", $0) } ?? " (no reference scores for a normalized score)")
        + "; episode seeds \(Self.seedRange(firstSeed, result.returns.count))")
    }
  }
}

extension EvalCommand {
  /// "S" or "S...S+n-1" (wrapping as the episodes' seeds do).
  static func seedRange(_ first: UInt64, _ count: Int) -> String {
    count <= 1 ? String(first) : "\(first)...\(first &+ UInt64(count - 1))"
  }
}

/// The first error of concurrent workers that cannot throw (evaluation episodes).
final class FirstError: @unchecked Sendable {
  private var stored: (any Error)?
  private let lock = NSLock()
  func record(_ e: any Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
  var error: (any Error)? { lock.lock(); defer { lock.unlock() }; return stored }
}

final class SharedPolicy: @unchecked Sendable {
  let policy: BehaviourPolicy
  init(_ p: BehaviourPolicy) { policy = p }
}

/// Rebuilds a trained agent from a run folder and evaluates it.
enum RunEvaluation {
  struct Visitor: AlgorithmVisitor {
    let folder: URL, checkpoint: URL, environment: String?, episodes: Int?, seed: UInt64?
    func visit<A: Algorithm>(_ type: A.Type) throws -> (result: EvaluationResult, seed: UInt64) {
      let trainer = try OfflineTrainer<A>.load(from: folder)
      // By default the trainer's own evaluation: its episode count and its first episode seed.
      let episodes = self.episodes ?? trainer.options.evaluationEpisodes
      let seed = self.seed ?? trainer.options.evaluationSeed(online: AlgorithmRegistry.isOnline(type))
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
      // This thread has the run's lanes, as the trainer's thread had when it evaluated (episodes that run on
      // other threads use 1 there and here).
      let result = try ProductLanes.with(plan: trainer.options.recordedSgemmPlan) { try ProductLanes.with(trainer.options.productLanes ?? 1) {
        try PolicyEvaluation.run(env, episodes: episodes, seed: seed) { obs in
          var unused = RandomStream(seed: 0)
          return scaling.toEnvironment(shared.agent.act(Tensor(shape: [1, obs.count], scalars: normalizer(obs)), exploring: false, rng: &unused).scalars)
        }
      } }
      return (result, seed)
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
    try evaluateAsTrained(path: path, environment: environment, episodes: episodes, seed: seed).result
  }

  /// As `evaluate`, with the run's own episode count and evaluation seed where `episodes` or `seed` is nil;
  /// returns the first episode's seed used.
  static func evaluateAsTrained(path: URL, environment: String?, episodes: Int?, seed: UInt64?) throws -> (result: EvaluationResult, seed: UInt64) {
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
