import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch

@Suite struct StitchCommandTests {
  @Test func helpListsSubcommandsWithAbstracts() {
    let help = StitchCommand.helpMessage()
    #expect(help.contains("USAGE: stitch"))
    for sub in StitchCommand.subcommands {
      let name = sub.configuration.commandName ?? ""
      #expect(help.contains(name), "root help is missing subcommand \(name)")
      #expect(!sub.configuration.abstract.isEmpty, "\(name) has no abstract")
    }
  }

  @Test func everySubcommandHelpHasAnExample() {
    func visit(_ command: any ParsableCommand.Type, path: [String]) {
      let subs = command.configuration.subcommands
      if subs.isEmpty {
        #expect(command.configuration.discussion.contains("Example"), "\(path.joined(separator: " ")) has no example in its help")
      }
      for sub in subs { visit(sub, path: path + [sub.configuration.commandName ?? "?"]) }
    }
    visit(StitchCommand.self, path: ["stitch"])
  }

  /// `--lanes`: 1 and 2 as given, auto from the cores per concurrent run, anything else a clear error.
  @Test func lanesOptionResolvesAndRejects() throws {
    #expect(try ProductLanesOption.resolve("1", concurrentRuns: 1) == 1)
    #expect(try ProductLanesOption.resolve("2", concurrentRuns: 5) == 2)
    #expect(try ProductLanesOption.resolve("auto", concurrentRuns: 10_000) == 1)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    #expect(try ProductLanesOption.resolve("auto", concurrentRuns: 1) == (cores >= 2 ? 2 : 1))
    #expect(throws: ValidationError.self) { _ = try ProductLanesOption.resolve("4", concurrentRuns: 1) }
  }

  @Test func unknownSubcommandIsAnError() {
    #expect(throws: (any Error).self) { _ = try StitchCommand.parseAsRoot(["no-such-command"]) }
  }
}

/// Runs `stitch ARGUMENTS...` in process: nil when it succeeds, else the error's text.
func commandError(_ arguments: [String]) -> String? {
  do {
    var command = try StitchCommand.parseAsRoot(arguments)
    try command.run()
    return nil
  } catch { return "\(error)" }
}
