import ArgumentParser
import Foundation

import Stitch

/// `stitch env`: list, describe and replay environments.
struct EnvCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "env",
    abstract: "List, describe and replay Stitch's simulated tasks.",
    discussion: """
      Example:
        stitch env list
        stitch env info Pendulum-v1
      """,
    subcommands: [EnvList.self, EnvInfo.self, EnvReplay.self])
}

struct EnvList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the environment ids Stitch knows.",
    discussion: "Example:\n  stitch env list")

  func run() throws {
    for e in EnvironmentRegistry.entries { print("\(e.id.padding(toLength: 26, withPad: " ", startingAt: 0)) \(e.summary)") }
  }
}

struct EnvInfo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Describe an environment: spaces, episode limit, reference scores.",
    discussion: "Example:\n  stitch env info Pendulum-v1\n  stitch env info Hopper-v4")

  @Argument(help: "Environment id, e.g. Pendulum-v1.")
  var name: String

  func run() throws {
    let env = try EnvironmentRegistry.make(name)
    print("id:                \(env.id)")
    print("observation space: \(env.observationSpace)")
    print("action space:      \(env.actionSpace)")
    if let mujoco = (env as? any MuJoCoTask) {
      print("physics:           MuJoCo \(MuJoCoLibrary.version), model \(mujoco.modelFile), dt \(mujoco.stepDuration) s (frame skip \(mujoco.frameSkip))")
    }
    print("episode limit:     \(env.maxEpisodeSteps.map(String.init) ?? "none")")
    if let r = NormalizedScore.references(for: env.id) {
      print("reference returns: random \(r.random), expert \(r.expert) (\(r.source.rawValue))")
    } else {
      print("reference returns: none (no normalized score)")
    }
  }
}

struct EnvReplay: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Set the simulator state and apply an action sequence, printing one JSON object per step.",
    discussion: """
      STATE.json holds {"qpos": [...], "qvel": [...]}; for classic-control tasks the state is qpos followed by qvel
      (Pendulum: qpos [theta], qvel [theta_dot]; MountainCarContinuous: qpos [position], qvel [velocity]).
      ACTIONS.csv has one comma-separated action per line. Output keys: observation, reward, terminated,
      truncated, info. Replay stops after the step that terminates or truncates.
      Example:
        stitch env replay --env Pendulum-v1 --state state.json --actions actions.csv
      """)

  @Option(help: "Environment id.") var env: String
  @Option(help: "JSON file with qpos and qvel.") var state: String
  @Option(help: "CSV file, one action per line.") var actions: String

  func run() throws {
    struct State: Decodable { var qpos: [Double]; var qvel: [Double] }
    guard let stateData = FileManager.default.contents(atPath: state) else { throw ValidationError("cannot read state file \(state)") }
    let s: State
    do { s = try JSONDecoder().decode(State.self, from: stateData) } catch {
      throw ValidationError("state file \(state) must be a JSON object with number arrays \"qpos\" and \"qvel\": \(error)")
    }
    guard let text = try? String(contentsOfFile: actions, encoding: .utf8) else { throw ValidationError("cannot read actions file \(actions)") }
    var rows: [[Double]] = []
    for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
      let values = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
      guard values.allSatisfy({ $0 != nil }) else { throw ValidationError("\(actions) line \(i + 1): not a list of numbers: \(line)") }
      rows.append(values.map { $0! })
    }
    var environment = try Replay.make(env, qpos: s.qpos, qvel: s.qvel)
    for action in rows {
      let step = try environment.step(action)
      let info = JSONText.object(step.info.keys.sorted().map { ($0, .number(step.info[$0]!)) })
      print(JSONText.object([
        ("observation", .array(step.observation.map { .number($0) })), ("reward", .number(step.reward)),
        ("terminated", .bool(step.terminated)), ("truncated", .bool(step.truncated)), ("info", info),
      ]))
      if step.terminated || step.truncated { break }
    }
  }
}

/// Builds an environment in a given simulator state (shared by `env replay` and tests).
enum Replay {
  static func make(_ id: String, qpos: [Double], qvel: [Double]) throws -> any Environment {
    try EnvironmentRegistry.make(id, qpos: qpos, qvel: qvel)
  }
}
