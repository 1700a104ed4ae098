import ArgumentParser

import Stitch

/// The `stitch` command: the root of the command tree.
///
/// Each subcommand is a small value type in `Commands/` (swift-argument-parser's shape); this type only lists them.
public struct StitchCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "stitch",
    abstract: "Stitch: data-driven (offline) reinforcement learning, one native binary.",
    discussion: """
      Train agents from fixed datasets, evaluate them in simulation with the D4RL normalized score, \
      and benchmark the kernels underneath. Run `stitch <subcommand> --help` for each command's options and an example.
      """,
    version: StitchVersion.string,
    subcommands: StitchCommand.subcommands
  )

  /// Every subcommand, in the order `--help` lists them. New commands register here.
  public static var subcommands: [any ParsableCommand.Type] {
    [TrainCommand.self, FinetuneCommand.self, SweepCommand.self, EvalCommand.self, ReportCommand.self, DatasetCommand.self, DynamicsCommand.self, ExperimentCommand.self, SynthCommand.self, PolicyCommand.self, EnvCommand.self, SystemCommand.self, BenchCommand.self]
  }

  public init() {}
}
