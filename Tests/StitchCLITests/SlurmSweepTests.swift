import Foundation
import Testing

@testable import StitchCLI
import Stitch

/// `stitch sweep --executor slurm` against a real Slurm: the one-node cluster of scripts/slurm-local (started here
/// when no node answers). Four cells go through sbatch, slurmctld and slurmd; two of them fail (a Pendulum dataset
/// evaluated in Hopper-v4), and the report job, run by Slurm after the array, writes a report that marks them.
/// Without a cluster this test fails: it never passes without having submitted.
extension SweepCommandTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Whether `sinfo` shows a usable node; else starts scripts/slurm-local and says what it printed when it fails.
  static func slurmProblem() -> String? {
    func nodeState() -> String {
      SlurmJobStates.run(["sinfo", "-h", "-o", "%t"]).out.split(separator: "\n").first.map(String.init) ?? ""
    }
    if ["idle", "mix", "alloc"].contains(nodeState()) { return nil }
    // Its output goes to a file, not a pipe: a daemon that kept the pipe open would leave a reader waiting forever.
    // Run by posix_spawn and waitpid, not Foundation's Process: slurm-local's daemons fork away from it, and
    // Process.waitUntilExit was seen to wait forever on the exited (zombie) script here.
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-local-\(UUID().uuidString).log")
    defer { try? FileManager.default.removeItem(at: log) }
    let script = repository.appendingPathComponent("scripts/slurm-local").path
    let command = "'\(script)' start > '\(log.path)' 2>&1"
    var pid: pid_t = 0
    let words: [String] = ["/bin/sh", "-c", command]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { word -> UnsafeMutablePointer<CChar>? in strdup(word) } + [nil]
    defer { argv.forEach { free($0) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return "scripts/slurm-local could not run" }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exitCode = (status >> 8) & 0xff
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    if exitCode != 0 || !["idle", "mix", "alloc"].contains(nodeState()) {
      return "no Slurm cluster: scripts/slurm-local start exited \(exitCode):\n\(text)"
    }
    return nil
  }

  /// A fresh temporary folder holding a 300-row pendulum-random dataset (seed 3), and that file's path.
  static func folderWithPendulumData(_ prefix: String) throws -> (URL, String) {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let data = root.appendingPathComponent("pendulum.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 3), to: data)
    return (root, data)
  }

  @Test func aSweepRunsThroughARealSlurm() throws {
    guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
      Issue.record("no stitch executable at \(Self.executable.path): build it with `swift build -c release --build-tests`")
      return
    }
    if let problem = Self.slurmProblem() {
      Issue.record("this test needs Slurm and could not start it: \(problem)")
      return
    }
    setenv("STITCH_EXECUTABLE", Self.executable.path, 1)
    unsetenv("STITCH_SBATCH")
    let (root, data) = try Self.folderWithPendulumData("stitch-slurm")
    defer { try? FileManager.default.removeItem(at: root) }
    let spec = root.appendingPathComponent("slurm.toml")
    try Data("""
      algorithms = ["bc"]
      seeds = [0, 1]
      steps = 4
      eval_every = 4
      eval_episodes = 1
      [dataset.pendulum-random]
      file = "\(data)"
      env = "Pendulum-v1"
      [dataset.wrong-env]
      file = "\(data)"
      env = "Hopper-v4"
      """.utf8).write(to: spec)
    let out = root.appendingPathComponent("out")
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--executor", "slurm", "--throttle", "2"]) == nil)
    let jobs = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("slurm/jobs.json"))) as! [String: String]
    let array = try #require(jobs["array"]), report = try #require(jobs["report"])
    #expect(Int(array) != nil && Int(report) != nil, "sbatch --parsable gave job ids: \(jobs)")
    // Wait for Slurm to run the array and then the report job (afterany).
    let deadline = Date().addingTimeInterval(240)
    var states = SlurmJobStates()
    while Date() < deadline {
      states = SlurmJobStates.ask(array: array, report: report)
      if let r = states.report, !["PENDING", "RUNNING", "CONFIGURING", "COMPLETING"].contains(r) { break }
      Thread.sleep(forTimeInterval: 1)
    }
    #expect(states.report == "COMPLETED", "the report job: \(states)")
    #expect(states.tasks.count == 4, "\(states)")
    let manifest = try SweepManifest.load(out)
    let byRun = Dictionary(grouping: manifest.cells, by: \.run)
    #expect(byRun["pendulum-random/bc"]?.allSatisfy { $0.status == "finished" } == true, "\(manifest.cells)")
    #expect(byRun["wrong-env/bc"]?.allSatisfy { $0.status == "failed" && ($0.error ?? "").contains("exit status") } == true, "\(manifest.cells)")
    for (i, c) in manifest.cells.enumerated() {
      #expect(states.tasks[i] == (c.status == "finished" ? "COMPLETED" : "FAILED"), "task \(i) of \(c.run)/seed_\(c.seed): \(states.tasks[i] ?? "unknown")")
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("logs/\(array)_\(i).out").path))
    }
    let text = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
    let rows = text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| run ") }
    #expect(rows.contains { $0.contains("| bc | bc | Pendulum-v1 | 2 | 4 |") }, "\(text)")
    #expect(text.contains("Failed cells (2 of 4") && text.contains("wrong-env/bc/seed_0") && text.contains("wrong-env/bc/seed_1"), "\(text)")
    #expect(commandError(["sweep", "status", out.path]) == nil)
  }

  /// The sweep file's [slurm] section reaches the array script; the command's flags override it; its mistakes are
  /// reported with the file's others.
  @Test func theSweepFilesSlurmSectionReachesTheScript() throws {
    let base = """
      algorithms = ["bc"]
      seeds = [0]
      steps = 4
      [dataset.d]
      file = "/x.hdf5"
      env = "Pendulum-v1"

      """
    let spec = try SweepSpec.parse(base + """
      [slurm]
      partition = "cpu"
      time = "01:00:00"
      throttle = 3
      cpus_per_task = 2
      sbatch = ["--mem=4G"]
      """)
    #expect(spec.slurm.partition == "cpu" && spec.slurm.account == nil && spec.slurm.time == "01:00:00" && spec.slurm.throttle == 3
            && spec.slurm.cpusPerTask == 2 && spec.slurm.sbatchLines == ["--mem=4G"], "\(spec.slurm)")
    let script = SweepRunCommand.slurmArrayScript(spec: "/s.toml", root: URL(fileURLWithPath: "/o"), cells: 5,
                                                  options: SlurmOptions(partition: "gpu", account: nil, time: spec.slurm.time, throttle: 3,
                                                                        cpusPerTask: spec.slurm.cpusPerTask, extra: spec.slurm.sbatchLines),
                                                  executable: "/bin/stitch")
    for line in ["#SBATCH --array=0-4%3", "#SBATCH --cpus-per-task=2", "#SBATCH --partition=gpu", "#SBATCH --time=01:00:00", "#SBATCH --mem=4G"] {
      #expect(script.contains(line + "\n"), "\(line) missing from:\n\(script)")
    }
    #expect(SweepRunCommand.arguments(spec.cells[0], sweep: spec, root: URL(fileURLWithPath: "/o"), lanes: 2).suffix(4) == ["--lanes", "2", "--dataset", "/x.hdf5"])
    #expect(!SweepRunCommand.arguments(spec.cells[0], sweep: spec, root: URL(fileURLWithPath: "/o")).contains("--checkpoint-every"))
    let checkpointed = try SweepSpec.parse(base.replacingOccurrences(of: "steps = 4", with: "steps = 4\ncheckpoint_every = 2"))
    #expect(SweepRunCommand.arguments(checkpointed.cells[0], sweep: checkpointed, root: URL(fileURLWithPath: "/o")).joined(separator: " ").contains("--checkpoint-every 2"))
    do {
      _ = try SweepSpec.parse(base + """
        [slurm]
        throttle = 0
        cpus_per_task = "two"
        colour = "red"
        sbatch = "--mem=4G"
        """)
      Issue.record("a bad [slurm] section parsed")
    } catch let e as SweepError {
      #expect(e.problems.count == 4, "\(e.problems)")
      #expect(e.description.contains("throttle must be a positive integer") && e.description.contains("unknown key colour"), "\(e)")
    }
  }
}
