import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch

/// `stitch dataset compare`, `stitch policy select` and `dataset make --policy` (issue 22).
@Suite struct DatasetCompareCommandTests {
  @Test func compareRefusesUnknownReferencesAndOtherWidthsInOneLine() throws {
    let root = try scratchFolder("compare")
    defer { try? FileManager.default.removeItem(at: root) }
    let pendulum = root.appendingPathComponent("p.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 400, seed: 0), to: pendulum)
    let unknown = commandError(["dataset", "compare", pendulum, "--reference", "d4rl:hoper-medium-v2"]) ?? ""
    #expect(unknown.contains("unknown reference 'd4rl:hoper-medium-v2'; known: d4rl:hopper-medium-v2") && !unknown.contains("\n"), "\(unknown)")
    let widths = commandError(["dataset", "compare", pendulum, "--reference", "d4rl:hopper-medium-v2"]) ?? ""
    #expect(widths == "\(pendulum) has 3-wide observations; d4rl:hopper-medium-v2 has 11", "\(widths)")
    // No --reference and no D4RL name in the metadata: say so and list the known ones.
    let none = commandError(["dataset", "compare", pendulum]) ?? ""
    #expect(none.contains("give --reference") && none.contains("d4rl:halfcheetah-expert-v2"), "\(none)")
  }

  /// The figures printed are the library's comparison of the file, in text and JSON; the reference comes from
  /// the file's metadata when not given.
  @Test func compareReportsTheComparisonOfTheFile() throws {
    let root = try scratchFolder("compare-hopper")
    defer { try? FileManager.default.removeItem(at: root) }
    let file = root.appendingPathComponent("h.hdf5").path
    let ds = try DatasetMaker.make("hopper-medium", size: 3000, seed: 1)
    try D4RLFile.write(ds, to: file)
    let expected = try DatasetComparison(try D4RLFile.read(file).0, reference: try D4RLReference.named("hopper-medium-v2"))
    let json = try capturedOutput { #expect(commandError(["dataset", "compare", file, "--json"]) == nil) }
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["reference"] as? String == "d4rl:hopper-medium-v2")
    #expect(object["episodes"] as? Int == expected.episodes && object["left_out_transitions"] as? Int == expected.leftOutTransitions)
    // Values taken out of the macro: #expect rewrites its subexpressions, which garbles CVarArg and bridged numbers.
    let distance = (object["distance"] as? NSNumber)?.doubleValue ?? -1
    #expect(abs(distance - expected.distance) < 1e-12, "\(distance) vs \(expected.distance)")
    #expect((object["dimensions"] as? [[String: Any]])?.count == 11)
    let text = try capturedOutput { #expect(commandError(["dataset", "compare", file, "--reference", "hopper-medium-v2"]) == nil) }
    let summary = String(format: "summary %.3f", expected.distance)
    #expect(text.contains(summary), "\(text)")
  }

  /// `policy select` marks and exports the closest snapshot; `dataset make --policy` rolls that file out.
  @Test func selectExportsTheClosestAndMakeRollsItOut() throws {
    let root = try scratchFolder("select")
    defer { try? FileManager.default.removeItem(at: root) }
    let snaps = root.appendingPathComponent("run/seed_0/snapshots")
    try FileManager.default.createDirectory(at: snaps, withIntermediateDirectories: true)
    for (name, step) in [("hopper-medium", 70_000), ("hopper-expert", 500_000)] {
      let p = try BehaviourPolicy.bundled(name)
      try BehaviourPolicy.save(actor: p.actor, task: p.task, kind: "snapshot", scaling: p.scaling, metadata: ["step": String(step)],
                               to: snaps.appendingPathComponent("step_\(step).safetensors"))
    }
    let chosen = root.appendingPathComponent("chosen.safetensors").path
    let json = try capturedOutput {
      #expect(commandError(["policy", "select", root.appendingPathComponent("run").path, "--reference", "d4rl:hopper-expert-v2",
                            "--transitions", "3000", "--export", "hopper-expert", "-o", chosen, "--json",
                            "--plot", root.appendingPathComponent("plots/select.svg").path]) == nil)
    }
    let svg = try String(contentsOf: root.appendingPathComponent("plots/select.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("snapshots against d4rl:hopper-expert-v2") && svg.contains("run/seed_0"))
    #expect(json.contains("\"best\": \"\(snaps.appendingPathComponent("step_500000.safetensors").path)\""), "\(json)")
    let exported = try BehaviourPolicy.load(URL(fileURLWithPath: chosen))
    #expect(exported.kind == "expert" && exported.metadata["selected_by"]?.contains("d4rl:hopper-expert-v2") == true)
    // The exported policy is the bundled expert's actor: rolling it out gives the bundled expert's data.
    let out = root.appendingPathComponent("made.hdf5").path
    #expect(commandError(["dataset", "make", "hopper-expert", "--policy", chosen, "--size", "1500", "-o", out]) == nil)
    let made = try D4RLFile.read(out).0, bundled = try DatasetMaker.make("hopper-expert", size: 1500, seed: 0)
    #expect(made.observations == bundled.observations && made.metadata["policy"] == chosen)
    // Bad input: --export without -o, a replay dataset with --policy, a window with no snapshot.
    #expect(commandError(["policy", "select", snaps.path, "--reference", "hopper-medium-v2", "--export", "hopper-medium"])?.contains("go together") == true)
    #expect(commandError(["dataset", "make", "hopper-medium-replay", "--policy", chosen, "-o", out])?.contains("--policy applies to rollouts") == true)
    #expect(commandError(["policy", "select", snaps.path, "--reference", "hopper-medium-v2", "--from", "600000"])?.contains("no snapshot") == true)
  }
}

/// `stitch report --rank-against` refuses what it cannot rank, naming why.
@Suite struct ReportRankingTests {
  @Test func rankAgainstNeedsAScorePerAlgorithmAndTwoAlgorithms() throws {
    let root = try scratchFolder("rank")
    defer { try? FileManager.default.removeItem(at: root) }
    let (seed, _) = try tinyRun(root)
    let run = seed.deletingLastPathComponent().path
    #expect(commandError(["report", run, "--rank-against", "iql=67.5,cql=59.1"])?.contains("gives no score for bc") == true)
    #expect(commandError(["report", run, "--rank-against", "bc=53.5"])?.contains("at least two algorithms") == true)
    #expect(commandError(["report", run, "--rank-against", "bc=fast"])?.contains("ALGO=SCORE pairs") == true)
    #expect(commandError(["report", run, run, "--rank-against", "bc=1,iql=2"])?.contains("two runs of bc") == true)
  }
}
