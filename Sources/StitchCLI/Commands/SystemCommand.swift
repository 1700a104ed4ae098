import ArgumentParser
import Stitch

/// `stitch system`: what this build runs on (native library versions, BLAS kernel and threads).
struct SystemCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "system",
    abstract: "Print the native libraries Stitch is linked against and how it uses the machine.",
    discussion: """
      Example:
        stitch system
        stitch system --json
      """)

  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  func run() throws {
    let info = MachineInfo.current()
    if json {
      print(JSONText.object(info.jsonFields))
    } else {
      for (key, value) in info.fields { print("\(key.padding(toLength: 18, withPad: " ", startingAt: 0)) \(value)") }
    }
  }
}
