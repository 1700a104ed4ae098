import ArgumentParser
import Foundation

import Stitch

/// `stitch dataset`: make, inspect and check datasets.
struct DatasetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dataset",
    abstract: "Make datasets with D4RL's protocol and inspect D4RL-layout files.",
    discussion: """
      Example:
        stitch dataset make pendulum-medium --size 100000 --seed 0 -o data/pendulum-medium.hdf5
        stitch dataset info data/pendulum-medium.hdf5 --json
        stitch dataset compare data/hopper-medium.hdf5 --reference d4rl:hopper-medium-v2
      """,
    subcommands: [DatasetMake.self, DatasetInfo.self, DatasetCompare.self, DatasetConvert.self])
}

/// `stitch dataset convert`: between the Minari and D4RL layouts.
struct DatasetConvert: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert a Minari dataset folder to a D4RL-layout HDF5 file, or a D4RL file to a Minari dataset folder.",
    discussion: """
      --format chooses the output's layout: d4rl writes one HDF5 file in D4RL's layout (with next_observations, so
      no transition is lost at episode ends); minari writes a Minari dataset folder (data/metadata.json +
      data/main_data.hdf5). Reference scores and the environment id travel along.
      Example:
        stitch dataset convert ~/.minari/datasets/mujoco/hopper/medium-v0 --format d4rl -o data/hopper-medium-minari.hdf5
        stitch dataset convert data/hopper-medium.hdf5 --format minari -o data/minari/hopper-medium-v0
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable { case d4rl, minari }

  @Argument(help: "Input: a Minari dataset folder or a D4RL .hdf5 file.") var input: String
  @Option(help: "Output layout: d4rl (one .hdf5 file) or minari (a dataset folder).") var format: Format
  @Option(name: [.short, .customLong("out")], help: "Output path (a file for d4rl, a folder for minari).") var out: String?
  @Option(name: .customLong("output"), help: ArgumentHelp("Former spelling of --out (kept for one release).", visibility: .hidden)) var outputAlias: String?
  @Option(help: "Minari dataset id to record when writing Minari (default: from the input's metadata).") var datasetId: String?

  func run() throws {
    let output = try OutputPath.resolve(out, outputAlias)
    if datasetId != nil, format != .minari { throw ValidationError("--dataset-id names a Minari dataset; it applies only with --format minari") }
    let (ds, report) = try DatasetFile.read(input)
    for note in report.notes { FileHandle.standardError.write(Data("dataset: \(note)\n".utf8)) }
    switch format {
    case .d4rl: try D4RLFile.write(ds, to: output)
    case .minari: try MinariWriter.write(ds, to: output, datasetID: datasetId ?? ds.metadata["dataset"] ?? "stitch/converted-v0")
    }
    print("wrote \(output): \(ds.count) transitions, \(ds.episodes.count) episodes")
  }
}

struct DatasetMake: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "make",
    abstract: "Roll out a bundled behaviour policy (or a random one) into a D4RL-layout HDF5 file.",
    discussion: """
      TASK-KIND with KIND in random, medium, expert, medium-expert, medium-replay. medium-replay is D4RL's "every
      transition SAC saw until the medium policy": the first --until rows of the replay buffer in a SAC run's
      checkpoint (--from-run RUN/seed_K); regenerate that run with the same seed to remake it.
      Tasks: pendulum, mountaincarcontinuous, hopper, halfcheetah, walker2d, ant (MuJoCo tasks roll out in their v4 versions; medium/expert need a bundled policy). Bundled policies: \
      \(BehaviourPolicy.bundledNames.joined(separator: ", ")).
      A trailing -vN names an earlier generation of bundled policies (hopper-medium-v1: the policies made before the
      choice by distance to D4RL's statistics, docs/datasets.md), kept so earlier results stay reproducible.
      Terminals mark terminations, timeouts the time limit (as D4RL). Same seed, same bytes.
      Example:
        stitch dataset make pendulum-medium --size 100000 --seed 0 -o data/pendulum-medium.hdf5
        stitch dataset make pendulum-medium-replay --from-run runs/sac/seed_0 --until 6000 -o data/pendulum-medium-replay.hdf5
        stitch dataset make hopper-medium-v1 -o data/hopper-medium-v1.hdf5     # the first generation of bundled policies
        stitch dataset make hopper-medium --policy chosen.safetensors -o data/hopper-medium-try.hdf5
      """)

  @Argument(help: "TASK-KIND, e.g. pendulum-medium.") var name: String
  @Option(help: "medium-replay: the SAC run folder (RUN/seed_K) whose replay buffer is cut.") var fromRun: String?
  @Option(help: "medium-replay: keep the buffer's first N transitions (the medium snapshot's step).") var until: Int?
  @Option(name: .customLong("size"), help: "Transitions (D4RL default 1,000,000; medium-expert makes twice this).") var sizeOption: Int?
  @Option(name: .customLong("seed"), help: "Seed of the rollouts (default 0).") var seedOption: UInt64?
  @Option(help: "medium/expert: roll out this behaviour policy instead of the bundled one: a policy file (stitch policy select --export, stitch policy export) or a bundled name (stitch policy list).")
  var policy: String?
  @Option(name: [.short, .customLong("out")], help: "Output .hdf5 file.") var out: String?
  @Option(name: .customLong("output"), help: ArgumentHelp("Former spelling of --out (kept for one release).", visibility: .hidden)) var outputAlias: String?

  var size: Int { sizeOption ?? 1_000_000 }
  var seed: UInt64 { seedOption ?? 0 }

  func run() throws {
    BLAS.threads = 1
    _ = try OutputPath.resolve(out, outputAlias)
    guard size > 0 else { throw ValidationError("--size must be positive") }
    if policy != nil, name.hasSuffix("-medium-replay") { throw ValidationError("--policy applies to rollouts; \(name) cuts a replay buffer") }
    if name.hasSuffix("-medium-replay") {
      // The buffer is cut, not rolled out: its size is --until and its seed the SAC run's.
      let rollout = [("--size", sizeOption != nil), ("--seed", seedOption != nil)].filter(\.1).map(\.0)
      if !rollout.isEmpty {
        throw ValidationError("\(name) cuts a SAC run's replay buffer (--from-run, --until); \(rollout.joined(separator: ", ")) apply only to rollouts (its size is --until, its seed the run's)")
      }
      guard let fromRun, let until else { throw ValidationError("\(name) needs --from-run RUN/seed_K and --until STEP (a SAC run's replay buffer)") }
      guard until > 0 else { throw ValidationError("--until must be positive, got \(until)") }
      try write(try DatasetMaker.mediumReplay(name, run: URL(fileURLWithPath: fromRun), until: until))
      return
    }
    let replayOnly = [("--from-run", fromRun != nil), ("--until", until != nil)].filter(\.1).map(\.0)
    if !replayOnly.isEmpty {
      throw ValidationError("\(replayOnly.joined(separator: ", ")) apply only to TASK-medium-replay (a SAC run's replay buffer); \(name) is rolled out with --size and --seed")
    }
    let reporter = ProgressReporter(label: "dataset \(name)", total: name.hasSuffix("medium-expert") ? 2 * size : size, unit: "transitions")
    var done = 0
    let chosen = try policy.map { p in
      FileManager.default.fileExists(atPath: p) ? try BehaviourPolicy.load(URL(fileURLWithPath: p)) : try BehaviourPolicy.bundled(p)
    }
    var ds = try DatasetMaker.make(name, size: size, seed: seed, policy: chosen) { _ in done += 1000; reporter.update(done) }
    reporter.finish()
    if let policy { ds.metadata["policy"] = policy }
    try write(ds)
  }

  func write(_ ds: Dataset) throws {
    let output = try OutputPath.resolve(out, outputAlias)
    let folder = URL(fileURLWithPath: output).deletingLastPathComponent()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try D4RLFile.write(ds, to: output)
    let stats = DatasetStatistics(ds)
    let score = NormalizedScore.score(task: ds.metadata["environment"] ?? name, return: stats.returnMean)
    print(String(format: "wrote %@: %d transitions, %d episodes, episode return %.1f ± %.1f", output, stats.transitions, stats.episodes, stats.returnMean, stats.returnStd)
      + (score.map { String(format: ", normalized score %.1f", $0) } ?? ""))
  }
}

struct DatasetInfo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Statistics of a dataset (D4RL file or Minari folder): sizes, returns, flags, moments, normalized score.",
    discussion: """
      With --json prints one object with the keys transitions, episodes, observation_dim, action_dim, return_mean,
      return_std, return_min, return_max, terminals and timeouts (the flags as the file holds them),
      closed_unfinished_episodes (episodes the file leaves unfinished, which loading ends with a timeout), infos (the
      file's infos/ columns with their widths), simulator_states (whether infos/qpos and infos/qvel are there), tq, saco,
      and normalized_score when the environment is
      known (from --env or the file's metadata). tq is the normalized average episode return in [0, 1] (Schweighofer
      et al. 2022, "A Dataset Perspective on Offline RL", TQ) when reference returns are known; saco is the number of
      unique state-action pairs relative to --saco-reference (the paper's reference is the online agent's replay
      data), null without one. Minari datasets carry their own reference scores (ref_min_score/ref_max_score),
      which take precedence; Stitch reports normalized scores ×100 (Minari's own helper does not multiply).
      Example:
        stitch dataset info data/pendulum-medium.hdf5 --json
        stitch dataset info ~/.minari/datasets/mujoco/hopper/medium-v0 --saco-reference data/hopper-replay.hdf5
      """)

  @Argument(help: "A D4RL-layout .hdf5 file or a Minari dataset folder.") var file: String
  @Option(help: "Reference dataset for SACo (D4RL file or Minari folder).") var sacoReference: String?
  @Option(help: "Environment id, for the normalized score and width checks.") var env: String?
  @Flag(help: "Drop transitions with NaN/inf values instead of refusing the file.") var dropNonFinite = false
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    var options = LoadOptions(dropNonFinite: dropNonFinite)
    if let env {
      let e = try EnvironmentRegistry.make(env)
      options.expectedObservationDim = e.observationSpace.size
      options.expectedActionDim = e.actionSpace.size
    }
    let (ds, report) = try DatasetFile.read(file, options: options)
    let s = DatasetStatistics(ds)
    let task = env ?? ds.metadata["environment"]
    var score = task.flatMap { NormalizedScore.score(task: $0, return: s.returnMean) }
    if let lo = ds.metadata["ref_min_score"].flatMap(Double.init), let hi = ds.metadata["ref_max_score"].flatMap(Double.init), hi > lo {
      score = 100 * (s.returnMean - lo) / (hi - lo)
    }
    let tq = score.map { $0 / 100 }
    // The file's own flags; the loader's fix-ups (an unfinished episode closed) are reported on their own.
    let terminals = report.fileTerminals ?? s.terminals, timeouts = report.fileTimeouts ?? s.timeouts
    let saco = try sacoReference.map { DatasetQuality.saco(ds, reference: try DatasetFile.read($0).0) }
    if json {
      var pairs: [(String, JSONText)] = [
        ("file", .string(file)), ("transitions", .integer(s.transitions)), ("episodes", .integer(s.episodes)),
        ("observation_dim", .integer(s.observationDim)), ("action_dim", .integer(s.actionDim)),
        ("return_mean", .number(s.returnMean)), ("return_std", .number(s.returnStd)), ("return_min", .number(s.returnMin)),
        ("return_max", .number(s.returnMax)), ("terminals", .integer(terminals)), ("timeouts", .integer(timeouts)),
        ("closed_unfinished_episodes", .integer(report.closedUnfinishedEpisodes)),
        ("tq", tq.map(JSONText.number) ?? .null), ("saco", saco.map(JSONText.number) ?? .null),
      ]
      if let score { pairs.append(("normalized_score", .number(score))) }
      pairs.append(("infos", .object(ds.infos.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value.width)) })))
      pairs.append(("simulator_states", .bool(ds.infos["qpos"] != nil && ds.infos["qvel"] != nil)))
      pairs.append(("notes", .array(report.notes.map { .string($0) })))
      print(JSONText.object(pairs))
      return
    }
    print("file:           \(file)")
    for note in report.notes { print("note:           \(note)") }
    print("transitions:    \(s.transitions) (\(s.episodes) episodes; the file flags \(terminals) terminals, \(timeouts) timeouts)")
    if report.closedUnfinishedEpisodes > 0 {
      print("fix-up:         \(report.closedUnfinishedEpisodes) unfinished episode\(report.closedUnfinishedEpisodes == 1 ? "" : "s") closed with a timeout on loading")
    }
    print("widths:         observation \(s.observationDim), action \(s.actionDim)")
    let infoList = ds.infos.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.width))" }
    print("infos:          " + (infoList.isEmpty ? "none" : infoList.joined(separator: ", "))
      + (ds.infos["qpos"] != nil && ds.infos["qvel"] != nil ? "; simulator states present (true-dynamics rollouts can start from them)" : "; no simulator states"))
    print(String(format: "episode return: mean %.2f, std %.2f, min %.2f, max %.2f", s.returnMean, s.returnStd, s.returnMin, s.returnMax))
    if let score { print(String(format: "normalized:     %.1f (%@)", score, task ?? "")) }
    if let saco { print(String(format: "SACo:           %.4f (unique state-action pairs relative to %@)", saco, sacoReference ?? "")) }
    print(String(format: "reward:         mean %.4f, std %.4f", s.rewardMean, s.rewardStd))
    print("obs mean:       " + s.observationMean.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print("obs std:        " + s.observationStd.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print("action mean:    " + s.actionMean.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print("action std:     " + s.actionStd.map { String(format: "%.3f", $0) }.joined(separator: " "))
    for (k, v) in ds.metadata.sorted(by: { $0.key < $1.key }) where k != "source_file" { print("metadata:       \(k) = \(v)") }
  }
}

/// `stitch policy`: manage behaviour policies.
struct PolicyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy",
    abstract: "List bundled behaviour policies, choose SAC snapshots by their data and export them as behaviour policies.",
    discussion: """
      Example:
        stitch policy list
        stitch policy export runs/sac/seed_0/snapshots/step_20000.safetensors --name pendulum-expert -o pendulum-expert.safetensors
        stitch policy select runs/sac-hopper --reference d4rl:hopper-medium-v2
      """,
    subcommands: [PolicyList.self, PolicyExport.self, PolicySelect.self])
}

struct PolicyList: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List the bundled behaviour policies.",
                                                  discussion: "Example:\n  stitch policy list")
  func run() throws {
    for name in BehaviourPolicy.bundledNames {
      let p = try BehaviourPolicy.bundled(name)
      print("\(name): \(p.task), SAC step \(p.metadata["step"] ?? "?"), measured return \(p.metadata["eval_return"] ?? "?")")
    }
  }
}

struct PolicyExport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export", abstract: "Copy a SAC snapshot into a behaviour-policy file named TASK-KIND.",
    discussion: "Example:\n  stitch policy export runs/sac/seed_0/snapshots/step_6000.safetensors --name pendulum-medium -o pendulum-medium.safetensors")
  @Argument(help: "A snapshot written by `stitch train --algo sac`.") var snapshot: String
  @Option(help: "TASK-KIND, e.g. pendulum-medium.") var name: String
  @Option(name: [.short, .customLong("out")], help: "Output file.") var out: String?
  @Option(name: .customLong("output"), help: ArgumentHelp("Former spelling of --out (kept for one release).", visibility: .hidden)) var outputAlias: String?
  @Option(help: "Bundled-policy generation to record (TASK-KIND-vN names generation N; 1 when absent).") var generation: Int?
  func run() throws {
    let output = try OutputPath.resolve(out, outputAlias)
    if let generation, generation < 1 { throw ValidationError("--generation must be at least 1, got \(generation)") }
    let (p, kind) = try Self.export(snapshot, name: name, metadata: generation.map { ["generation": String($0)] } ?? [:], to: output)
    print("wrote \(output) (\(p.task) \(kind), from step \(p.metadata["step"] ?? "?"))")
  }

  /// Writes the snapshot at `snapshot` as a behaviour policy of the kind `name` names, recording its source and
  /// `metadata` (`policy export`, `policy select --export`).
  static func export(_ snapshot: String, name: String, metadata: [String: String], to output: String) throws -> (BehaviourPolicy, kind: String) {
    let p = try BehaviourPolicy.load(URL(fileURLWithPath: snapshot))
    let (_, kind) = try DatasetMaker.parse(name)
    let meta = p.metadata.merging(["source": snapshot].merging(metadata) { $1 }) { $1 }
    try BehaviourPolicy.save(actor: p.actor, task: p.task, kind: kind, scaling: p.scaling, metadata: meta, to: URL(fileURLWithPath: output))
    return (p, kind)
  }
}
