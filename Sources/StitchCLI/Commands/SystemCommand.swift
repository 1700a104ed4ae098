import Foundation
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
    var info = MachineInfo.current()
    // How `stitch train` / `stitch synth` use the cores (the figures above are this process's current settings).
    let oneSeedLanes = (try? ProductLanesOption.resolve("auto", concurrentRuns: 1)) ?? 1
    let cores = ProcessInfo.processInfo.activeProcessorCount
    info.fields.append(("training", "OpenBLAS 1 thread per seed; seeds in parallel up to \(cores) cores; --lanes auto: \(oneSeedLanes) product lane(s) for a single seed"))
    if json {
      print(JSONText.object(info.jsonFields))
    } else {
      for (key, value) in info.fields { print("\(key.padding(toLength: 18, withPad: " ", startingAt: 0)) \(value)") }
    }
  }
}
