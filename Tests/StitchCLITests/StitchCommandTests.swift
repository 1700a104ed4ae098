import ArgumentParser
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

  @Test func versionIsTheLibraryVersion() {
    #expect(StitchCommand.configuration.version == StitchVersion.string)
  }

  @Test func unknownSubcommandIsAnError() {
    #expect(throws: (any Error).self) { _ = try StitchCommand.parseAsRoot(["no-such-command"]) }
  }
}
